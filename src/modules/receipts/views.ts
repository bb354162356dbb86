import type { ReceiptDocument } from './schemas.js'
import type { StoredReceipt } from './repository.js'
import { renderSms } from './sms.js'

export const publicReceiptUrl = (baseUrl: string, token: string) => `${baseUrl}/r/${token}`

/** The signed content: the stored document with the link to the original sale's receipt. */
export function receiptDocumentOf(row: StoredReceipt): ReceiptDocument {
  const doc = row.document as ReceiptDocument
  return { ...doc, originalReceipt: row.originalReceiptId && row.originalNumber ? { id: row.originalReceiptId, number: row.originalNumber } : null }
}

/** The API view: the document, its links and its SMS text. */
export function receiptView(row: StoredReceipt, baseUrl: string) {
  const doc = receiptDocumentOf(row)
  const url = publicReceiptUrl(baseUrl, row.publicToken)
  return { ...doc, links: { public: url, jws: `/v1/receipts/${row.id}/jws` }, sms: renderSms(doc, url) }
}
