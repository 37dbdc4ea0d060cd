/** The Weaviate value mapping: exact, or refused with a reason; never rounded. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/errors';
import type { FanoutTable } from '../../shared/fanout/fanout-types';
import { defaultPropertyName, parseClassConfig, planClasses } from '../../shared/weaviate/class-config';
import { ValueRefused, propertyEncoding } from '../../shared/weaviate/value-mapping';
import { ACCOUNT, OPPORTUNITY } from './weaviate-fixtures';

describe('the Weaviate value mapping', () => {
  it('maps each type to its documented Weaviate type and value', () => {
    const cases: Array<[Parameters<typeof propertyEncoding>[0], unknown, string, unknown]> = [
      ['boolean', true, 'boolean', true],
      ['int', -5, 'int', -5],
      ['long', 9_007_199_254_740_991n, 'int', 9_007_199_254_740_991],
      ['double', 1.5, 'number', 1.5],
      ['decimal(38, 4)', 123456789012345678901234567890123456n, 'text', '12345678901234567890123456789012.3456'],
      ['date', -1, 'date', '1969-12-31T00:00:00Z'],
      ['timestamp', -1n, 'date', '1969-12-31T23:59:59.999999Z'],
      ['time', 86_399_999_999n, 'text', '23:59:59.999999'],
      ['uuid', '0b9a4b44-2c3e-4b9e-9a47-5b1c1d3c0f00', 'uuid', '0b9a4b44-2c3e-4b9e-9a47-5b1c1d3c0f00'],
      ['binary', new Uint8Array([0, 255]), 'blob', 'AP8='],
      [{ type: 'list', 'element-id': 1, element: 'long', 'element-required': false }, [1n, 2n], 'int[]', [1, 2]],
      [{ type: 'struct', fields: [{ id: 1, name: 'a', required: false, type: 'long' }] }, [2n ** 60n], 'text', '["1152921504606846976"]'],
    ];
    for (const [type, value, dataType, sent] of cases) {
      const encoding = propertyEncoding(type);
      expect({ type, dataType: encoding.dataType, sent: encoding.encode(value as never) }).toEqual({ type, dataType, sent });
    }
    expect(propertyEncoding('long').encode(null)).toBeUndefined();
  });

  it('refuses what JSON or Weaviate would change, and keeps it exact as text when asked', () => {
    const refused: Array<[Parameters<typeof propertyEncoding>[0], unknown]> = [
      ['long', 2n ** 53n],
      ['long', -(2n ** 60n)],
      ['double', Number.NaN],
      ['double', -0],
      ['float', Number.POSITIVE_INFINITY],
      ['date', 2_932_897],
      ['timestamptz', 253_402_300_800_000_000n],
      [{ type: 'list', 'element-id': 1, element: 'string', 'element-required': false }, ['a', null]],
    ];
    for (const [type, value] of refused) expect(() => propertyEncoding(type).encode(value as never), JSON.stringify(String(value))).toThrow(ValueRefused);
    expect(propertyEncoding('long', true).encode(2n ** 60n + 1n)).toBe('1152921504606846977');
    expect(propertyEncoding('double', true).encode(-0)).toBe('-0');
    expect(propertyEncoding('double', true).encode(Number.NaN)).toBe('NaN');
  });
});

describe('the Weaviate class configuration', () => {
  it('defaults: the entity as class, every column, string columns embedded, references by their column, reserved names prefixed', () => {
    const plan = planClasses([ACCOUNT, OPPORTUNITY], { classes: {} }).get('sales.opportunity')!;
    expect(plan.className).toBe('Opportunity');
    expect(plan.properties.map((p) => `${p.name}:${p.encoding.dataType}${p.embedded ? '*' : ''}`)).toEqual([
      'row_id:int',
      'account_id:int',
      'name:text*',
      'description:text*',
      'amount:text',
      'counter:int',
      'closes:date',
      'updated:date',
      'tags:text[]',
    ]);
    expect(plan.references.map((r) => `${r.name}->${r.targetClass}`)).toEqual(['account->Account']);
    expect(defaultPropertyName('Unit Price')).toBe('unit_Price');
    expect(defaultPropertyName('2fa')).toBe('c_2fa');
    expect(defaultPropertyName('meta')).toBe('row_meta');
  });

  it('follows a configuration, and refuses one that names what does not exist or collides', () => {
    const config = parseClassConfig({
      classes: {
        'sales.opportunity': {
          class: 'Deal',
          properties: ['id', 'name', 'account_id'],
          embed: ['name'],
          rename: { id: 'dealId' },
          references: { opportunity_account_id_fkey: 'customer' },
        },
      },
    });
    const plan = planClasses([ACCOUNT, OPPORTUNITY], config).get('sales.opportunity')!;
    expect(plan.className).toBe('Deal');
    expect(plan.properties.map((p) => p.name)).toEqual(['dealId', 'account_id', 'name']);
    expect(plan.references[0]!.name).toBe('customer');
    const refuse = (entry: unknown): void => {
      expect(() => planClasses([ACCOUNT, OPPORTUNITY], parseClassConfig({ classes: { 'sales.opportunity': entry } }))).toThrow(ValidationError);
    };
    refuse({ properties: ['nope'] });
    refuse({ embed: ['counter'] });
    refuse({ rename: { name: 'description' } });
    refuse({ rename: { name: 'source_key' } });
    refuse({ rename: { name: 'Title' } });
    refuse({ class: 'Account' });
    refuse({ class: 'lower' });
    refuse({ colour: 'blue' });
  });
});

describe("the README's class configuration example", () => {
  it('is valid for an opportunity table and means what the README says', () => {
    const readme = readFileSync(path.join(__dirname, '../../README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Weaviate'));
    const example = /```json\n([\s\S]*?)```/.exec(section)![1]!;
    const table: FanoutTable = {
      ...OPPORTUNITY,
      columns: [
        { name: 'id', type: 'long', nullable: false, sourceType: 'bigint' },
        { name: 'account_id', type: 'long', nullable: true, sourceType: 'bigint' },
        { name: 'name', type: 'string', nullable: false, sourceType: 'text' },
        { name: 'stage', type: 'string', nullable: false, sourceType: 'text' },
        { name: 'amount', type: 'decimal(12, 2)', nullable: true, sourceType: 'numeric(12,2)' },
        { name: 'description', type: 'string', nullable: true, sourceType: 'text' },
        { name: 'big_counter', type: 'long', nullable: true, sourceType: 'bigint' },
        { name: 'internal_notes', type: 'string', nullable: true, sourceType: 'text' },
      ],
    };
    const plan = planClasses([ACCOUNT, table], parseClassConfig(JSON.parse(example))).get('sales.opportunity')!;
    expect(plan.className).toBe('Opportunity');
    expect(plan.properties.map((p) => `${p.name}:${p.encoding.dataType}${p.embedded ? '*' : ''}`)).toEqual([
      'opportunityId:int',
      'account_id:int',
      'name:text*',
      'stage:text',
      'amount:text',
      'description:text*',
      'big_counter:text',
    ]);
    expect(plan.references.map((r) => `${r.name}->${r.targetClass}`)).toEqual(['account->Account']);
  });
});
