/**
 * RFC 4180: fields holding a comma, a double quote, CR or LF are enclosed in double quotes with
 * inner quotes doubled; records end with CRLF. Null and undefined are empty fields. Values are
 * written as they are (no spreadsheet-formula escaping), so the file re-sums to the ledger exactly.
 */
export function csvField(value: string | number | bigint | null | undefined): string {
  if (value === null || value === undefined) return ''
  const text = String(value)
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

export function csvRecord(values: readonly (string | number | bigint | null | undefined)[]): string {
  return `${values.map(csvField).join(',')}\r\n`
}
