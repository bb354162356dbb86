import { z } from 'zod'
import { publicReceiptUrl } from './views.js'

/** What a transaction's response says about its receipt: enough for a POS to print a QR code or send the link. */
export const receiptLinkSchema = z
  .object({
    id: z.uuid(),
    number: z.string(),
    url: z.string().describe('Public HTML receipt (no authentication): the short link of the SMS'),
  })
  .meta({ id: 'ReceiptLink' })

export const receiptLinkOf = (receipt: { id: string; number: string; token: string }, baseUrl: string) => ({
  id: receipt.id,
  number: receipt.number,
  url: publicReceiptUrl(baseUrl, receipt.token),
})
