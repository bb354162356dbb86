// The records of an uploaded file, read as it streams in: bytes to text (UTF-8, strictly), text to
// CSV records (RFC 4180) or NDJSON lines. Pure generators over chunks: nothing holds more than the
// record being read, so memory stays flat whatever the file's size. A record longer than
// MAX_RECORD_CHARS stops the file (usually a quote never closed, which would swallow the rest).

/** The longest record read: far above any member row (about 300 characters), small enough to hold. */
export const MAX_RECORD_CHARS = 64 * 1024

/** The file cannot be read on (not UTF-8, a record over MAX_RECORD_CHARS): the import stops there. */
export class UnreadableFile extends Error {
  override name = 'UnreadableFile'
}

export interface FileRecord {
  /** 1-based position among the data records (the CSV header is not one). */
  row: number
  /** The line of the file where the record starts, 1-based. */
  line: number
  fields: string[]
  /** Set when the record breaks the format (a stray quote, a quoted field never closed); its fields are a best effort. */
  malformed?: string
}

/** Text of a byte stream, refusing bytes that are not UTF-8 (a file saved in another encoding). A leading BOM is dropped. */
export async function* utf8Text(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })
  let offset = 0
  for await (const chunk of chunks) {
    let text: string
    try {
      text = decoder.decode(chunk, { stream: true })
    } catch {
      throw new UnreadableFile(`the file is not UTF-8 text (in the bytes from offset ${offset}); save it as UTF-8`)
    }
    offset += chunk.byteLength
    if (text) yield text
  }
  let rest: string
  try {
    rest = decoder.decode()
  } catch {
    throw new UnreadableFile('the file ends inside a UTF-8 character')
  }
  if (rest) yield rest
}

const QUOTE = 34
const COMMA = 44
const CR = 13
const LF = 10

/** Where the reader is in a record. */
const enum At {
  /** A field begins: nothing of it read yet. */
  FieldStart,
  Unquoted,
  Quoted,
  /** A quote inside a quoted field: doubled (a literal quote) or the field's end, the next character says. */
  QuoteInQuoted,
  /** After a quoted field's closing quote: a comma or a line break is due. */
  AfterQuote,
}

/**
 * CSV records (RFC 4180: comma-separated, fields holding commas, quotes or line breaks enclosed in
 * double quotes, inner quotes doubled). Records end with CRLF, LF or a lone CR; blank lines are
 * skipped. What RFC 4180 forbids but files carry (a quote inside an unquoted field, text after a
 * closing quote, a quote never closed) marks the record malformed instead of stopping the file.
 * The first record is the header (`row` 0).
 */
export async function* csvRecords(text: AsyncIterable<string>, maxRecordChars = MAX_RECORD_CHARS): AsyncGenerator<FileRecord> {
  let fields: string[] = []
  let field = ''
  let at = At.FieldStart
  let touched = false // a blank line reads nothing: no character, comma or quote
  let malformed: string | undefined
  let size = 0
  let line = 1
  let startLine = 1
  let lastCr = false
  let records = 0

  const take = (): FileRecord | undefined => {
    fields.push(field)
    const out: FileRecord | undefined = touched ? { row: records, line: startLine, fields, ...(malformed ? { malformed } : {}) } : undefined
    if (out) records += 1
    fields = []
    field = ''
    at = At.FieldStart
    touched = false
    malformed = undefined
    size = 0
    return out
  }
  const touch = () => {
    if (!touched) {
      touched = true
      startLine = line
    }
  }
  const grow = (chars: number) => {
    size += chars
    if (size > maxRecordChars) throw new UnreadableFile(`the record starting at line ${startLine} is longer than ${maxRecordChars} characters (a quoted field never closed?)`)
  }

  for await (const chunk of text) {
    const n = chunk.length
    let i = 0
    while (i < n) {
      const c = chunk.charCodeAt(i)
      if (at === At.QuoteInQuoted) {
        if (c === QUOTE) {
          field += '"'
          grow(1)
          at = At.Quoted
          i++
          continue
        }
        at = At.AfterQuote
      }
      if (at === At.Quoted) {
        // The run up to the next quote, line breaks and all.
        const q = chunk.indexOf('"', i)
        const stop = q === -1 ? n : q
        if (stop > i) {
          for (let k = i; k < stop; k++) {
            const d = chunk.charCodeAt(k)
            if (d === LF) {
              if (!lastCr) line++
              lastCr = false
            } else if (d === CR) {
              line++
              lastCr = true
            } else lastCr = false
          }
          field += chunk.slice(i, stop)
          grow(stop - i)
        }
        if (q === -1) break
        lastCr = false
        at = At.QuoteInQuoted
        i = stop + 1
        continue
      }
      if (c === LF || c === CR) {
        if (c === CR || !lastCr) line++
        lastCr = c === CR
        const record = take()
        if (record) yield record
        i++
        continue
      }
      lastCr = false
      touch()
      if (c === COMMA) {
        fields.push(field)
        field = ''
        at = At.FieldStart
        grow(1)
        i++
      } else if (c === QUOTE) {
        if (at === At.FieldStart) at = At.Quoted
        else {
          malformed ??= at === At.AfterQuote ? 'a quote after the closing quote of a field' : 'a double quote inside an unquoted field (quote the whole field and double the quote)'
          field += '"'
          grow(1)
        }
        i++
      } else {
        let j = i + 1
        while (j < n) {
          const d = chunk.charCodeAt(j)
          if (d === COMMA || d === QUOTE || d === LF || d === CR) break
          j++
        }
        if (at === At.AfterQuote) malformed ??= 'text after the closing quote of a field'
        else at = At.Unquoted
        field += chunk.slice(i, j)
        grow(j - i)
        i = j
      }
    }
  }
  if (at === At.Quoted) malformed ??= 'a quoted field is not closed before the end of the file'
  const last = take()
  if (last) yield last
}

/**
 * NDJSON lines (one JSON value a line, LF or CRLF), blank lines skipped; each line's text as the
 * record's one field, parsed by the caller so that a bad line is that row's refusal.
 */
export async function* ndjsonLines(text: AsyncIterable<string>, maxRecordChars = MAX_RECORD_CHARS): AsyncGenerator<FileRecord> {
  let pending = ''
  let line = 0
  let row = 0
  for await (const chunk of text) {
    let from = 0
    for (;;) {
      const lf = chunk.indexOf('\n', from)
      if (lf === -1) break
      const content = pending + chunk.slice(from, lf)
      pending = ''
      from = lf + 1
      line++
      if (content.length > maxRecordChars) throw new UnreadableFile(`line ${line} is longer than ${maxRecordChars} characters`)
      const trimmed = content.endsWith('\r') ? content.slice(0, -1) : content
      if (trimmed.trim() === '') continue
      row++
      yield { row, line, fields: [trimmed] }
    }
    pending += chunk.slice(from)
    if (pending.length > maxRecordChars) throw new UnreadableFile(`line ${line + 1} is longer than ${maxRecordChars} characters`)
  }
  line++
  const last = pending.endsWith('\r') ? pending.slice(0, -1) : pending
  if (last.trim() !== '') yield { row: row + 1, line, fields: [last] }
}
