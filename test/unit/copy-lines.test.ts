import t from 'tap'
import { sql } from 'drizzle-orm'
import { BinaryCopyLines, inlinedText } from '../../src/db/copy.js'

// The framing of `COPY … TO STDOUT (FORMAT binary)` of one text column (src/db/copy.ts), as
// PostgreSQL writes it: the signature, flags and header extension, then per tuple a field count,
// a length and the bytes, and -1 as the end marker. Chunks from the socket split it anywhere.

function header(extension = Buffer.alloc(0)): Buffer {
  const fixed = Buffer.alloc(8)
  fixed.writeInt32BE(0, 0)
  fixed.writeInt32BE(extension.length, 4)
  return Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), fixed, extension])
}

function tuple(text: string | null, fields = 1): Buffer {
  const head = Buffer.alloc(6)
  head.writeInt16BE(fields, 0)
  const bytes = text === null ? Buffer.alloc(0) : Buffer.from(text)
  head.writeInt32BE(text === null ? -1 : bytes.length, 2)
  return Buffer.concat([head, bytes])
}

const END = Buffer.from([0xff, 0xff])

/** Feeds `bytes` in chunks of `size` and returns the texts and whether the end marker was read. */
function read(bytes: Buffer, size: number): { text: string; ended: boolean } {
  const lines = new BinaryCopyLines()
  const out: Buffer[] = []
  for (let at = 0; at < bytes.length; at += size) out.push(lines.push([bytes.subarray(at, at + size)]))
  return { text: Buffer.concat(out).toString(), ended: lines.ended }
}

const texts = ['id,kind\r\n', 'a,"Trần, Lan"\r\n', '', '{"x":"\\u0001"}\n']
const stream = Buffer.concat([header(), ...texts.map((l) => tuple(l)), END])

t.test('the texts of every tuple, whole, however the chunks split the stream', async (t) => {
  for (const size of [1, 2, 3, 5, 7, 19, 20, 64, stream.length]) {
    t.same(read(stream, size), { text: texts.join(''), ended: true }, `chunks of ${size} bytes`)
  }
})

t.test('several chunks at once give the same texts as one at a time', async (t) => {
  for (const size of [1, 4, 9, 30]) {
    const chunks: Buffer[] = []
    for (let at = 0; at < stream.length; at += size) chunks.push(stream.subarray(at, at + size))
    const lines = new BinaryCopyLines()
    const out: Buffer[] = []
    for (let i = 0; i < chunks.length; i += 3) {
      const group = chunks.slice(i, i + 3)
      out.push(lines.push(group))
    }
    t.same({ text: Buffer.concat(out).toString(), ended: lines.ended }, { text: texts.join(''), ended: true }, `chunks of ${size} bytes, three at a time`)
  }
})

t.test('a header extension is skipped; nothing is returned before the header is whole', async (t) => {
  const withExtension = Buffer.concat([header(Buffer.from('future')), tuple('line\n'), END])
  t.same(read(withExtension, 4), { text: 'line\n', ended: true })
  const lines = new BinaryCopyLines()
  t.equal(lines.push([withExtension.subarray(0, 21)]).length, 0, 'the extension is not whole yet')
  t.equal(lines.push([withExtension.subarray(21)]).toString(), 'line\n')
})

t.test('without its end marker the stream has not ended; bytes after it are ignored', async (t) => {
  t.same(read(Buffer.concat([header(), tuple('a\n')]), 3), { text: 'a\n', ended: false })
  t.same(read(Buffer.concat([header(), tuple('a\n'), END, tuple('b\n')]), 100), { text: 'a\n', ended: true })
})

t.test('what is not a COPY of one non-null text column is refused', async (t) => {
  t.throws(() => new BinaryCopyLines().push([Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\x01', 'latin1'), Buffer.alloc(8)])]), /not a binary COPY stream/)
  t.throws(() => new BinaryCopyLines().push([Buffer.concat([header(), tuple('a', 2)])]), /one column, not 2/)
  t.throws(() => new BinaryCopyLines().push([Buffer.concat([header(), tuple(null)])]), /no NULL line/)
})

t.test('a COPY query has its values written in as literals, and no backslash', async (t) => {
  const id = "o'brien"
  t.equal(inlinedText(sql`select ${id}::text as line, ${42} as n`), "select 'o''brien'::text as line, 42 as n", 'quotes doubled, numbers as they are')
  t.throws(() => inlinedText(sql`select ${'a\\b'}`), /backslash/, 'a backslash would read differently with standard_conforming_strings off')
})
