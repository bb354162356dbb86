/**
 * A strict RFC 4180 reader for tests: records end with CRLF, quoted fields may hold commas,
 * CRLF and doubled quotes. Throws on anything else, so a test fails on malformed output.
 */
export function parseCsv(text: string): string[][] {
  const records: string[][] = []
  let record: string[] = []
  let field = ''
  let i = 0
  let quoted = false
  while (i < text.length) {
    const c = text[i]!
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"'
        i += 2
      } else if (c === '"') {
        quoted = false
        i += 1
        if (text[i] !== ',' && text[i] !== '\r') throw new Error(`character after a closing quote at ${i}`)
      } else {
        field += c
        i += 1
      }
      continue
    }
    if (c === '"') {
      if (field !== '') throw new Error(`quote inside an unquoted field at ${i}`)
      quoted = true
      i += 1
    } else if (c === ',') {
      record.push(field)
      field = ''
      i += 1
    } else if (c === '\r') {
      if (text[i + 1] !== '\n') throw new Error(`CR without LF at ${i}`)
      record.push(field)
      records.push(record)
      record = []
      field = ''
      i += 2
    } else if (c === '\n') {
      throw new Error(`bare LF at ${i}`)
    } else {
      field += c
      i += 1
    }
  }
  if (quoted) throw new Error('unterminated quoted field')
  if (field !== '' || record.length > 0) throw new Error('the last record does not end with CRLF')
  return records
}

/** Records as objects keyed by the header row. */
export function csvObjects(text: string): { header: string[]; rows: Record<string, string>[] } {
  const [header, ...records] = parseCsv(text)
  if (!header) throw new Error('no header row')
  for (const r of records) if (r.length !== header.length) throw new Error(`a record has ${r.length} fields, the header ${header.length}`)
  return { header, rows: records.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]!]))) }
}
