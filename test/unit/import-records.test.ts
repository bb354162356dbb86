import t, { type Test } from 'tap'
import { csvRecords, ndjsonLines, UnreadableFile, utf8Text, type FileRecord } from '../../src/modules/imports/records.js'

async function* chunksOf(text: string, size: number): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size)
}

async function all<T>(gen: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of gen) out.push(x)
  return out
}

/** The records of `text`, read whole and in chunks of every size from 1 to 7: the result must not depend on where chunks split. */
async function records(t: Test, text: string, max?: number): Promise<FileRecord[]> {
  const whole = await all(csvRecords(chunksOf(text, text.length || 1), max))
  for (let size = 1; size <= 7; size++) t.same(await all(csvRecords(chunksOf(text, size), max)), whole, `the same in chunks of ${size}`)
  return whole
}

const fieldsOf = (rs: FileRecord[]) => rs.map((r) => r.fields)

t.test('plain records, CRLF or LF or CR, the first one the header (row 0)', async (t) => {
  for (const eol of ['\r\n', '\n', '\r']) {
    const rs = await records(t, `name,phone${eol}Lan,0912345678${eol}Bao,0987654321${eol}`)
    t.same(fieldsOf(rs), [['name', 'phone'], ['Lan', '0912345678'], ['Bao', '0987654321']], JSON.stringify(eol))
    t.same(rs.map((r) => [r.row, r.line]), [[0, 1], [1, 2], [2, 3]], 'rows from 0 (the header), lines from 1')
  }
})

t.test('quoted fields hold commas, doubled quotes and line breaks; lines count the breaks inside them', async (t) => {
  const rs = await records(t, 'a,b\r\n"Trần, Lan","say ""hi"""\r\n"two\r\nlines","x\ny"\r\nlast,""\r\n')
  t.same(fieldsOf(rs), [['a', 'b'], ['Trần, Lan', 'say "hi"'], ['two\r\nlines', 'x\ny'], ['last', '']])
  t.same(rs.map((r) => r.line), [1, 2, 3, 6], 'the record after one with two quoted line breaks (CRLF, LF) starts on line 6')
  t.notOk(rs.some((r) => r.malformed), 'nothing malformed')
})

t.test('blank lines are skipped, an empty field is kept, the last record needs no line break', async (t) => {
  const rs = await records(t, '\r\na,b\r\n\r\n\n,\r\nx,y')
  t.same(fieldsOf(rs), [['a', 'b'], ['', ''], ['x', 'y']])
  t.same(rs.map((r) => r.line), [2, 5, 6])
  t.same(rs.map((r) => r.row), [0, 1, 2])
})

t.test('a quote inside an unquoted field, text after a closing quote and an unclosed quote mark the record, not the file', async (t) => {
  const rs = await records(t, 'a,b\r\nab"c,d\r\n"x"y,z\r\nok,1\r\n"never closed,2\r\nmore')
  t.same(
    rs.map((r) => [r.fields, r.malformed !== undefined]),
    [
      [['a', 'b'], false],
      [['ab"c', 'd'], true],
      [['xy', 'z'], true],
      [['ok', '1'], false],
      [['never closed,2\r\nmore'], true],
    ],
  )
  t.match(rs[4]!.malformed, /not closed/)
})

t.test('a record longer than the limit stops the file', async (t) => {
  await t.rejects(all(csvRecords(chunksOf(`a\r\n"${'x'.repeat(200)}`, 16), 100)), UnreadableFile)
  await t.rejects(all(csvRecords(chunksOf(`a\r\n${'y,'.repeat(100)}`, 16), 100)), UnreadableFile)
  t.same(fieldsOf(await all(csvRecords(chunksOf(`a\r\n${'z'.repeat(90)}\r\n`, 16), 100))), [['a'], ['z'.repeat(90)]], 'below the limit is read')
})

t.test('NDJSON: one line a record, LF or CRLF, blank lines skipped, line numbers kept', async (t) => {
  const text = '{"a":1}\r\n\n{"b":"x,y"}\n  \n{"c":2}'
  const whole = await all(ndjsonLines(chunksOf(text, text.length)))
  for (let size = 1; size <= 5; size++) t.same(await all(ndjsonLines(chunksOf(text, size))), whole, `the same in chunks of ${size}`)
  t.same(whole, [
    { row: 1, line: 1, fields: ['{"a":1}'] },
    { row: 2, line: 3, fields: ['{"b":"x,y"}'] },
    { row: 3, line: 5, fields: ['{"c":2}'] },
  ])
  await t.rejects(all(ndjsonLines(chunksOf(`{}\n${'x'.repeat(50)}\n`, 8), 20)), UnreadableFile, 'a line over the limit stops the file')
})

t.test('UTF-8: characters split across chunks are read whole, a BOM is dropped, other encodings are refused', async (t) => {
  const bytes = new TextEncoder().encode('\uFEFFTrần Thị Lan,₫')
  async function* byteChunks(size: number) {
    for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size)
  }
  for (const size of [1, 2, 3, 100]) t.equal((await all(utf8Text(byteChunks(size)))).join(''), 'Trần Thị Lan,₫', `chunks of ${size} bytes`)
  async function* latin1() {
    yield new Uint8Array([0x54, 0x72, 0xe2, 0x6e]) // "Trân" in Latin-1
  }
  await t.rejects(all(utf8Text(latin1())), UnreadableFile)
  async function* cut() {
    yield new Uint8Array([0x61, 0xe1, 0xba]) // "a" and the first two bytes of a three-byte character
  }
  await t.rejects(all(utf8Text(cut())), UnreadableFile, 'a file that ends inside a character')
})
