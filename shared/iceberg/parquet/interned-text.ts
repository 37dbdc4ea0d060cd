/**
 * A text value the string column writer takes in place of a string: the text's UTF-8 bytes with the text itself,
 * one object for every repeat of the same text in a column (shared/postgres/text-interner.ts makes them). The
 * column writer remembers the dictionary index of the last text it saw on the object, so a repeated text costs the
 * writer no hashing and no lookup; everything that is not the writer reads `text`.
 */
export class InternedText extends Uint8Array {
  /** The text these bytes spell. */
  text = '';
  /** The dictionary (a string column's current one) that `dictionaryIndex` belongs to. */
  dictionary: object | undefined = undefined;
  dictionaryIndex = 0;

  /** A copy of the UTF-8 bytes `buf[start, end)`, which spell `text`. */
  static copyOf(buf: Uint8Array, start: number, end: number, text: string): InternedText {
    const entry = new InternedText(end - start);
    entry.set(buf.subarray(start, end));
    entry.text = text;
    return entry;
  }
}
