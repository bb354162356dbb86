import type { TestApp } from './app.js'

let keySeq = 0
export const idemKey = (prefix = 'k') => `${prefix}-${process.pid}-${Date.now()}-${++keySeq}`

let receiptSeq = 0
export const receiptNo = () => `R-${process.pid}-${++receiptSeq}`

export interface Line {
  sku: string
  name?: string
  /** Pieces, or with `unit` a measure (a number or a decimal string, "0.375"). */
  quantity: number | string
  unit?: string
  unitPrice: string
  category?: string
  discount?: string
  taxRate?: string
}

/** A POS till of one program: purchases, returns, top-ups, balances. */
export class Till {
  constructor(
    readonly ctx: TestApp,
    readonly token: string,
    readonly currency = 'VND',
    readonly storeId = 'S1',
  ) {}

  purchase(memberId: string, lines: Line[], tenders: unknown[], extra: Record<string, unknown> = {}, key = idemKey('p')) {
    return this.ctx.call(
      this.token,
      'POST',
      '/v1/purchases',
      {
        memberId,
        storeId: this.storeId,
        terminalId: 'T1',
        externalId: receiptNo(),
        currency: this.currency,
        lines: lines.map((l) => ({ name: l.sku, ...l })),
        tenders,
        ...extra,
      },
      { 'idempotency-key': key },
    )
  }

  async topUp(memberId: string, amount: string) {
    const res = await this.ctx.call(this.token, 'POST', `/v1/members/${memberId}/stored-value/top-ups`, { amount, tender: 'cash', storeId: this.storeId }, { 'idempotency-key': idemKey('t') })
    if (res.statusCode !== 201) throw new Error(`top-up failed: ${res.body}`)
    return res.json()
  }

  async grantPoints(memberId: string, points: number) {
    const res = await this.ctx.call(this.token, 'POST', `/v1/members/${memberId}/points/adjustments`, { points, reason: 'test setup' }, { 'idempotency-key': idemKey('a') })
    if (res.statusCode !== 201) throw new Error(`grant failed: ${res.body}`)
  }

  returnPurchase(purchaseId: string, body: Record<string, unknown>, key = idemKey('r')) {
    return this.ctx.call(this.token, 'POST', `/v1/purchases/${purchaseId}/returns`, body, { 'idempotency-key': key })
  }

  async balances(memberId: string) {
    return (await this.ctx.call(this.token, 'GET', `/v1/members/${memberId}/balances`)).json()
  }

  async verify() {
    return (await this.ctx.call(this.token, 'GET', '/v1/ledger/verify')).json()
  }
}

/** 1 point per 10,000 VND, 1 point = 100 VND. */
export const VND_RULES = { earning: { points: 1, per: '10000' }, pointValue: '100' }
/** 1 point per 1 USD, 1 point = 0.01 USD. */
export const USD_RULES = { earning: { points: 1, per: '1' }, pointValue: '0.01' }
