// What the gift card scenarios share: issuing, loading and checking cards through the API, and the
// ledger verified clean.
import type { Test } from 'tap'
import type { TestApp } from '../../helpers/app.js'
import { idemKey } from '../../helpers/pos.js'

export interface Card {
  id: string
  code: string
  balance: string
  hasPin: boolean
  memberId: string | null
}

export class GiftCardDesk {
  constructor(
    readonly ctx: TestApp,
    readonly token: string,
  ) {}

  async issue(body: Record<string, unknown> = {}, key = idemKey('gc')): Promise<Card> {
    const res = await this.ctx.call(this.token, 'POST', '/v1/gift-cards', body, { 'idempotency-key': key })
    if (res.statusCode !== 201) throw new Error(`issue failed: ${res.statusCode} ${res.body}`)
    return res.json()
  }

  async load(id: string, amount: string, storeId = 'S1', key = idemKey('gl')) {
    const res = await this.ctx.call(this.token, 'POST', `/v1/gift-cards/${id}/loads`, { amount, tender: 'cash', storeId }, { 'idempotency-key': key })
    if (res.statusCode !== 201) throw new Error(`load failed: ${res.statusCode} ${res.body}`)
    return res.json()
  }

  check(code: string, pin?: string) {
    return this.ctx.call(this.token, 'POST', '/v1/gift-cards/balance-checks', { code, ...(pin === undefined ? {} : { pin }) })
  }

  async balance(id: string): Promise<string> {
    return (await this.ctx.call(this.token, 'GET', `/v1/gift-cards/${id}`)).json().balance
  }

  async verify(t: Test) {
    const report = (await this.ctx.call(this.token, 'GET', '/v1/ledger/verify')).json()
    t.ok(report.ok, `ledger verify clean: ${JSON.stringify(report.discrepancies)}`)
  }
}
