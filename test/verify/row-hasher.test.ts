/**
 * The row hash: the JS chain from reader values must equal the chain from canonical texts (the definition) for
 * every type and awkward value, and both must equal what PostgreSQL computes in SQL (pinned values).
 */
import { describe, expect, it } from 'vitest';
import type { IcebergType } from '../../shared/iceberg/spec/types';
import type { Value } from '../../shared/iceberg/spec/values';
import { reduceHash } from '../../shared/verify/canonical/buckets';
import { canonicalValue } from '../../shared/verify/canonical/canonical-text';
import { HASHED, hashScratch, hashText, scratch } from '../../shared/verify/canonical/row-hash';
import { HashSum, RowHasher } from '../../shared/verify/canonical/row-hasher';
import { type HashForm, rowHashSql } from '../../shared/verify/canonical/row-hash-sql';

const hashed = (): bigint => (BigInt(HASHED[0]!) << 32n) | BigInt(HASHED[1]!);

/** A row's hash from its reader values: the sum of a batch of that one row. */
function fromValues(types: IcebergType[], row: Value[], forms?: HashForm[]): bigint {
  const sum = new HashSum();
  new RowHasher(types, forms).addRows([row], sum);
  return sum.sum;
}

function fromCanonical(types: IcebergType[], row: Value[], forms?: HashForm[]): bigint {
  new RowHasher(types, forms).hashCanonical(row.map((v, i) => canonicalValue(types[i]!, v)));
  return hashed();
}

/** A deterministic pseudo-random source, so a failure names a reproducible value. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const LIST: IcebergType = { type: 'list', 'element-id': 9, element: 'long', 'element-required': false };
const STRINGS: IcebergType = { type: 'list', 'element-id': 12, element: 'string', 'element-required': false };
const AWKWARD = ['', 'null', 'a"b\\c', '\b\f\n\r\t\u0000\u001f', 'é€漢😀', '\ud800', 'x\udc00', '\u2028', 'y'.repeat(40)];
const STRUCT: IcebergType = {
  type: 'struct',
  fields: [
    { id: 10, name: 'a', required: false, type: 'string' },
    { id: 11, name: 'b', required: false, type: 'double' },
  ],
};

/** Per type: values our reader can return, the awkward ones first, then random ones. */
function valuesOf(type: IcebergType, next: () => number): Value[] {
  const big = () => BigInt.asIntN(64, (BigInt(Math.floor(next() * 2 ** 32)) << 32n) | BigInt(Math.floor(next() * 2 ** 32)));
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(next() * 256));
  const some = <T extends Value>(make: () => T) => Array.from({ length: 200 }, make);
  switch (type) {
    case 'boolean':
      return [true, false];
    case 'int':
      return [0, -1, 1, 9, 10, 99, 100, -2147483648, 2147483647, ...some(() => Math.floor((next() - 0.5) * 2 ** 32))];
    case 'long':
    case 'timestamptz':
      return [
        0n,
        -1n,
        9n,
        10n,
        2147483648n,
        -(2n ** 63n),
        2n ** 63n - 1n,
        2n ** 53n,
        2n ** 53n - 1n,
        -(2n ** 53n) + 1n,
        9_999_999_999_999_999n,
        1_700_000_000_000_001n,
        100_000_000n,
        99_999_999n,
        ...some(big),
        ...some(() => BigInt(Math.floor((next() - 0.5) * 2 ** 40))),
      ];
    case 'date':
      return [0, -1, 18628, -719528, 2932896, ...some(() => Math.floor((next() - 0.5) * 2 ** 22))];
    case 'double':
      return [0, -0, Number.NaN, Infinity, -Infinity, 5e-324, 1.5, -1e300, ...some(() => (next() - 0.5) * 10 ** Math.floor(next() * 40))];
    case 'float':
      return [0, -0, Number.NaN, Infinity, Math.fround(1.1), ...some(() => Math.fround((next() - 0.5) * 1e6))];
    case 'string':
      return [
        '',
        'null',
        'a"b\\c',
        'é€漢😀',
        '\ud800',
        'x'.repeat(5000),
        'é'.repeat(3000),
        ...some(() => String.fromCharCode(...Array.from({ length: Math.floor(next() * 30) }, () => Math.floor(next() * 0x3000)))),
      ];
    case 'uuid':
      return ['00000000-0000-0000-0000-000000000000', 'ABCDEF01-2345-6789-ABCD-EF0123456789', bytes(16), ...some(() => bytes(16))];
    case 'binary':
      return [new Uint8Array(0), bytes(1), bytes(3000), ...some(() => bytes(Math.floor(next() * 40)))];
    case 'decimal(12, 2)':
      return [
        ...[0n, 1n, -1n, 10n, 100n, -100n, 1230n, -5n, 99_999_999_999_9n, 12345, -7],
        // Either side of 2^31, where the writer leaves int32 arithmetic.
        ...[2_147_483_647, 2_147_483_648, -2_147_483_647, -2_147_483_648, 2_147_483_640, 2_147_483_650, -2_147_483_650],
        ...some(() => BigInt(Math.floor((next() - 0.5) * 2 ** 45))),
      ];
    case 'decimal(38, 10)':
      return [0n, 10n ** 37n, -(10n ** 37n) + 1n, 10_000_000_000n, 5n, ...some(big)];
    case 'decimal(20, 0)':
      return [0n, -1n, 10n ** 19n, ...some(big)];
    default:
      if (type === STRINGS) return [[], [null], AWKWARD, [...AWKWARD, null].reverse(), ...some(() => AWKWARD.filter(() => next() < 0.5))];
      return type === LIST
        ? [[], [1n, null, -2n], [null]]
        : [
            ['x', -0],
            [null, null],
            ['', Number.NaN],
          ];
  }
}

describe('row hashes', () => {
  const types: IcebergType[] = [
    'boolean',
    'int',
    'long',
    'timestamptz',
    'date',
    'double',
    'float',
    'string',
    'uuid',
    'binary',
    'decimal(12, 2)',
    'decimal(38, 10)',
    'decimal(20, 0)',
    LIST,
    STRINGS,
    STRUCT,
  ];

  it('are the same from reader values as from canonical texts, for every type and awkward value', () => {
    const next = random(42);
    for (const type of types) {
      for (const value of [...valuesOf(type, next), null]) {
        const row = [value, 'tail'];
        const rowTypes = [type, 'string'] as IcebergType[];
        expect(fromValues(rowTypes, row), `${JSON.stringify(type)} ${canonicalValue(type, value)}`).toBe(fromCanonical(rowTypes, row));
      }
    }
  });

  it('add up the same hashes when a batch is hashed column by column (addRows) as row by row from canonical texts', () => {
    const next = random(7);
    const batchTypes = [...types, 'time', 'timestamp'] as IcebergType[];
    const columns = batchTypes.map((type) => [...valuesOf(type === 'time' || type === 'timestamp' ? 'long' : type, next), null]);
    const rows = Array.from({ length: 700 }, (_v, r) => columns.map((values) => values[(r * 7 + Math.floor(next() * values.length)) % values.length]!));
    const byRow = new HashSum();
    const hasher = new RowHasher(batchTypes);
    for (const row of rows) {
      hasher.hashCanonical(row.map((v, i) => canonicalValue(batchTypes[i]!, v)));
      byRow.addHashed();
    }
    const byColumn = new HashSum();
    // Batches of several sizes through one hasher: its buffers grow and are reused.
    for (const [from, to] of [
      [0, 1],
      [1, 300],
      [300, 301],
      [301, 700],
    ] as const) {
      hasher.addRows(rows.slice(from, to), byColumn);
    }
    expect(byColumn.rows).toBe(rows.length);
    expect(byColumn.sum).toBe(byRow.sum);
    // One value changed changes the sum.
    const changed = new HashSum();
    hasher.addRows(
      rows.map((row, r) => (r === 123 ? row.map((v, i) => (batchTypes[i] === 'string' ? `${(v as string | null) ?? ''}!` : v)) : row)),
      changed,
    );
    expect(changed.sum).not.toBe(byRow.sum);
  });

  it('are 0 for a row without columns, as rowHashSql of none is', () => {
    fromValues(['string'], ['leaves a hash behind']);
    expect(fromValues([], [])).toBe(0n);
    expect(rowHashSql([])).toBe('0::int8');
  });

  it('tell NULL, the empty string and the text "null" apart, and do not depend on where a text is split', () => {
    const strings: IcebergType[] = ['string', 'string'];
    const distinct = [
      [null, 'x'],
      ['', 'x'],
      ['null', 'x'],
      ['ab', 'c'],
      ['a', 'bc'],
      [null, null],
      [null, ''],
      ['', null],
      ['', ''],
    ];
    expect(new Set(distinct.map((row) => fromValues(strings, row))).size).toBe(distinct.length);
  });

  it('hash every length of a tail and of whole blocks as hashtextextended does, with and without a seed (PostgreSQL 17, x86-64)', () => {
    // SELECT hashtextextended(left('abcdefghijklmnopqrstuvwxyz', n), seed) FROM generate_series(0, 26) n
    const unseeded = [
      -6939563903564495251n,
      3591986179850072241n,
      2833316173711343549n,
      -6747756470228489321n,
      -1038429303365892052n,
      3076356108696143428n,
      290958262752763840n,
      -6158032784613548338n,
      -8882191227074733005n,
      -3278210106038014113n,
      -3183301415634409076n,
      3112909444737856467n,
      -7556637188122330412n,
      8871624171452417744n,
      4973135103275945525n,
      9043359162837317271n,
      878954068520307163n,
      981995727863167554n,
      484589330715449564n,
      -232611774418841497n,
      772495730612720881n,
      7996419909667933074n,
      5065299895581918398n,
      -1198571854151947912n,
      -1933194731779935345n,
      5649064133428767341n,
      -6612928417832572997n,
    ];
    // The seed -4611686018427387903: high word 0xc0000000, low word 1.
    const seeded = [
      -7499287106114083565n,
      2878724414541767597n,
      338595351533916510n,
      -3332235395776590921n,
      -35595004824133191n,
      1685254861743671729n,
      -3866620943690442865n,
      -7008196515960046964n,
      -7364230887909185458n,
      3125593715684444387n,
      550285855661287615n,
      3298890889565135652n,
      -4342289524889713653n,
      -5246217977416685968n,
      7536096011827013778n,
      -5740580106765082250n,
      4602769666657537321n,
      -2846078749140591749n,
      2265602817412665363n,
      -8175508830918507239n,
      -4891643554481610348n,
      2145993265146974292n,
      -5849932043509090965n,
      724329874551423562n,
      7051185213799518477n,
      6407822145166252488n,
      -2242740952243706763n,
    ];
    const hashed = () => (BigInt(HASHED[0]!) << 32n) | BigInt(HASHED[1]!);
    const letters = 'abcdefghijklmnopqrstuvwxyz';
    for (let n = 0; n <= 26; n++) {
      // Bytes past the end are not the text's: whatever they hold must not reach the hash.
      scratch(64).fill(0xa5).write(letters.slice(0, n), 0, 'latin1');
      hashScratch(n, 0, 0);
      expect(hashed()).toBe(reduceHash(unseeded[n]!.toString()));
      hashScratch(n, 0xc0000000, 1);
      expect(hashed()).toBe(reduceHash(seeded[n]!.toString()));
    }
  });

  it('chain hashtextextended as PostgreSQL computes rowHashSql (values from PostgreSQL 17 on x86-64)', () => {
    const u64 = (signed: bigint) => reduceHash(signed.toString());
    const strings: IcebergType[] = ['string', 'string'];
    expect(fromValues(strings, ['a', 'b'])).toBe(u64(2809646617618446421n));
    expect(fromValues(strings, [null, ''])).toBe(u64(-7296560867558060753n));
    expect(fromValues(strings, ['', null])).toBe(u64(-6744784437570196355n));
    expect(fromValues(strings, [null, null])).toBe(u64(7939685242381944258n));
    expect(fromValues(strings, ['é😀', '12.5'])).toBe(u64(5521258281497366708n));
    // One column, seed 0: hashtextextended(text, 0) itself.
    expect(fromValues(['string'], ['a'])).toBe(u64(3591986179850072241n));
    // An int or date column hashes its 32-bit value (hashint4extended), a NULL one the value 0 with the masked seed.
    expect(fromValues(['int'], [42])).toBe(u64(8010225493015854792n));
    const intText: IcebergType[] = ['int', 'string'];
    expect(fromValues(intText, [42, 'x'])).toBe(u64(73193877190836695n));
    expect(fromValues(intText, [null, 'x'])).toBe(u64(-5086413136505537888n));
    expect(fromValues(intText, [0, 'x'])).toBe(u64(-1866671928413530099n));
    expect(fromValues(intText, [-7, null])).toBe(u64(1299825350736738538n));
    expect(fromValues(intText, [2147483647, ''])).toBe(u64(9222822529053826909n));
    expect(fromValues(['date', 'string'], [-2147483648, 'é'])).toBe(u64(-7954098880266001485n));
  });

  it('hash a long by hashint8extended with its high word in the seed, as rowHashSql does (values from PostgreSQL 17 on x86-64)', () => {
    const u64 = (signed: bigint) => reduceHash(signed.toString());
    // rowHashSql of the long alone, and after the text 'é' (its hash the seed)
    const expected: Array<[number | bigint, bigint, bigint]> = [
      [0, 4154612158245552303n, 2148262697367990385n],
      [1, -3670598878359251130n, -5989035959039893837n],
      [-1, 4324775752023984626n, 5109618393885292637n],
      [2147483647, -9109110466470504941n, -1579019338214095850n],
      [-2147483648, 5746088719792868857n, 3997934619018404689n],
      [2147483648, 1977219185673256887n, 4218297059347071581n],
      [-2147483649, -5631269283048493130n, 2103260886254238685n],
      [4294967296, -4406712548492291368n, 5028452375181781748n],
      [4294967295, -1888257769727981238n, 4565740714112796462n],
      [123456789012, 5381326303318254747n, 6681922673890885745n],
      [9007199254740993n, 482913910486702450n, 6407669981534267609n],
      [-9007199254740993n, 3599067474214565911n, -2355401888747276550n],
      [9223372036854775807n, 1164794958220000875n, -9221898750163660771n],
      [-9223372036854775808n, 1541059758912566796n, -6089149927886757730n],
    ];
    for (const [value, alone, afterText] of expected) {
      expect(fromValues(['long'], [value])).toBe(u64(alone));
      expect(fromCanonical(['long'], [value])).toBe(u64(alone));
      expect(fromValues(['string', 'long'], ['é', value])).toBe(u64(afterText));
      expect(fromCanonical(['string', 'long'], ['é', value])).toBe(u64(afterText));
    }
    // A NULL long: 0 with the seed masked.
    expect(fromValues(['long'], [null])).toBe(u64(6040081407837759822n));
    expect(fromCanonical(['long'], [null])).toBe(u64(6040081407837759822n));
  });

  it('hash a decimal from a numeric(P, S) by its text at its scale, as PostgreSQL prints it (values from PostgreSQL 17 on x86-64)', () => {
    const u64 = (signed: bigint) => reduceHash(signed.toString());
    // hashtextextended(v::numeric(P, S)::text, 0)
    const expected: Array<[IcebergType, bigint | number, bigint]> = [
      ['decimal(12, 2)', 0, 3765456213389415486n],
      ['decimal(12, 2)', -5, 8477413108873009585n],
      ['decimal(12, 2)', 1230n, 295224828262578615n],
      ['decimal(14, 2)', 99_999_999_999_999n, 4632548266296138162n],
      ['decimal(38, 10)', 10n ** 37n, 5342323635996931840n],
      ['decimal(20, 0)', -1n, -1944483416295135017n],
      ['decimal(10, 3)', 123_456, -6398757475421707093n],
    ];
    for (const [type, unscaled, hash] of expected) {
      expect(fromValues([type], [unscaled], ['scaled'])).toBe(u64(hash));
      // From the trimmed canonical text (12.3) alike, padded back to the scale.
      expect(fromCanonical([type], [unscaled], ['scaled'])).toBe(u64(hash));
      // The text form hashes the trimmed text: a value with fractional zeros hashes differently.
      if (String(unscaled).endsWith('0') && type !== 'decimal(20, 0)') expect(fromValues([type], [unscaled])).not.toBe(u64(hash));
    }
  });

  it('hash a time-type column by the hex of its binary send form, as rowHashSql does (values from PostgreSQL 17 on x86-64)', () => {
    const u64 = (signed: bigint) => reduceHash(signed.toString());
    // hashtextextended(encode(timestamptz_send('2021-01-01 00:00:13.007717+00'), 'hex'), 0)
    expect(fromValues(['timestamptz'], [1609459213007717])).toBe(u64(4773667019952004423n));
    expect(fromValues(['timestamptz'], [1609459213007717n])).toBe(u64(4773667019952004423n));
    // Before 2000 and before 1970 the int64 is negative: fffca2fec4c81fff for 1969-12-31 23:59:59.999999.
    expect(fromValues(['timestamp', 'string'], [-1, 'x'])).toBe(u64(6232743153887114511n));
    // A NULL one hashes '' with the masked seed, as a NULL text does.
    expect(fromValues(['timestamp', 'string'], [null, 'x'])).toBe(u64(50049833340327697n));
    // time_send counts from midnight: 13:45:00.5.
    expect(fromValues(['time'], [49500500000])).toBe(u64(-1966874900704955470n));
    // From canonical texts alike (the buckets' hash).
    expect(fromCanonical(['timestamp', 'string'], [-1, 'x'])).toBe(u64(6232743153887114511n));
    expect(fromCanonical(['time'], [49500500000])).toBe(u64(-1966874900704955470n));
  });

  it('give the send form of int64 extremes beyond the safe integers', () => {
    const extreme = [-(2n ** 63n) + 946684800000000n, 2n ** 63n - 1n];
    for (const value of extreme) {
      expect(fromValues(['timestamptz'], [value])).toBe(fromCanonical(['timestamptz'], [value]));
    }
    expect(fromValues(['timestamptz'], [extreme[0]!])).not.toBe(fromValues(['timestamptz'], [extreme[1]!]));
  });

  it('stay right when a long text grows the scratch buffer between other hashes', () => {
    const types2: IcebergType[] = ['long', 'string'];
    const before = fromValues(types2, [42n, 'short']);
    hashText('y'.repeat(100_000), 1);
    expect(fromValues(types2, [42n, 'short'])).toBe(before);
    expect(fromValues(types2, [42n, 'z'.repeat(50_000)])).toBe(fromCanonical(types2, [42n, 'z'.repeat(50_000)]));
  });

  it('is NULL-tested only for nullable columns in SQL', () => {
    const sql = rowHashSql([
      { sql: 'q.c0', form: 'text' },
      { sql: 'q.c1', form: 'text', nullTest: '(q.c1 IS NULL)' },
      { sql: 'q.v2', form: 'int4' },
    ]);
    expect(sql).toBe(
      'pg_catalog.hashint4extended((q.v2), ' +
        'pg_catalog.hashtextextended(COALESCE(q.c1, \'\') COLLATE "C", (pg_catalog.hashtextextended((q.c0) COLLATE "C", 0::int8)) # ' +
        '(CASE WHEN (q.c1 IS NULL) THEN -7046029254386353131::int8 ELSE 0::int8 END)))',
    );
  });
});

describe('hash sums', () => {
  it("add modulo 2^64 with the carry, as PostgreSQL's numeric sum reduced does", () => {
    const sum = new HashSum();
    const expected = [0xffffffffffffffffn, 0xffffffff00000001n, 0x00000001ffffffffn, 12345n];
    for (const h of expected) {
      HASHED[0] = Number(h >> 32n);
      HASHED[1] = Number(h & 0xffffffffn);
      sum.addHashed();
    }
    expect(sum.rows).toBe(4);
    expect(sum.sum).toBe(expected.reduce((a, b) => (a + b) % 2n ** 64n, 0n));
  });
});
