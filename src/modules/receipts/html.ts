import { createHash } from 'node:crypto'
import { formatMoney, formatPoints, formatQuantity } from './format.js'
import { LABELS, tendersLabelOf, titleOf, totalLabelOf } from './labels.js'
import type { ReceiptDocument } from './schemas.js'

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }
/** Every text from a POS or a program goes through this: line names are anyone's input. */
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!)

const STYLE = `
:root{color-scheme:light dark;--fg:#1b1b1f;--muted:#5f6368;--line:#e3e3e8;--bg:#f6f6f8;--card:#fff;--accent:#0b6e4f}
@media (prefers-color-scheme:dark){:root{--fg:#ececf1;--muted:#a0a4ab;--line:#33343a;--bg:#111214;--card:#1b1c20;--accent:#4fd1a5}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif}
main{max-width:480px;margin:0 auto;padding:16px}
.card{background:var(--card);border-radius:14px;padding:18px 16px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
h1{font-size:1.25rem;margin:0 0 2px;text-align:center}
.kind{margin:0 0 14px;text-align:center;color:var(--muted);text-transform:uppercase;letter-spacing:.06em;font-size:.8rem}
.kind.pending{color:#b26a00}.kind.void{color:#b3261e}
dl{display:grid;grid-template-columns:auto 1fr;gap:2px 12px;margin:0 0 12px;font-size:.9rem}
dt{color:var(--muted)}dd{margin:0;text-align:right;overflow-wrap:anywhere}
table{width:100%;border-collapse:collapse;margin:8px 0}
th{font-size:.75rem;text-transform:uppercase;color:var(--muted);text-align:left;font-weight:600;padding:6px 0;border-bottom:1px solid var(--line)}
td{padding:7px 0;border-bottom:1px solid var(--line);vertical-align:top}
.num{text-align:right;white-space:nowrap;padding-left:8px}
.sub{display:block;color:var(--muted);font-size:.8rem}
.sum td{border:0;padding:3px 0}
.sum td:first-child{padding-right:8px}
.grand td{font-size:1.15rem;font-weight:700;border-top:2px solid var(--fg);padding-top:8px}
h2{font-size:.8rem;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);margin:16px 0 4px}
.amt{white-space:nowrap;font-variant-numeric:tabular-nums}
.pos{color:var(--accent)}
footer{margin-top:16px;text-align:center;color:var(--muted);font-size:.8rem}
footer p{margin:4px 0}
a{color:var(--accent)}
`.trim()

/** The page's only style, allowed by its hash: the Content-Security-Policy needs no 'unsafe-inline'. */
export const RECEIPT_CSP = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`

export interface HtmlLinks {
  /** Where the signed receipt can be fetched; omitted when there is no public one. */
  jws?: string
}

/** A clean, mobile-first HTML receipt (no script, no external resource). */
export function renderHtml(doc: ReceiptDocument, links: HtmlLinks = {}): string {
  const l = LABELS[doc.language]
  const money = (v: string) => `<span class="amt">${escapeHtml(formatMoney(v, doc.currency, doc.language))}</span>`
  const pts = (n: number) => `<span class="amt">${escapeHtml(formatPoints(n, doc.language))} ${l.pointsUnit}</span>`
  const e = escapeHtml
  const row = (label: string, value: string, cls = '') => `<tr class="${cls}"><td>${label}</td><td class="num">${value}</td></tr>`
  const pending = doc.kind === 'purchase' && doc.status === 'pending'
  const kindClass = pending ? 'pending' : doc.kind === 'void' ? 'void' : ''

  const meta: [string, string][] = [
    [l.number, e(doc.number)],
    [l.time, e(doc.localTime)],
    [l.store, e(doc.store.id)],
    ...(doc.terminalId ? ([[l.terminal, e(doc.terminalId)]] as [string, string][]) : []),
    ...(doc.posReceiptNumber ? ([[l.posNumber, e(doc.posReceiptNumber)]] as [string, string][]) : []),
    ...(doc.originalReceipt ? ([[l.original, e(doc.originalReceipt.number)]] as [string, string][]) : []),
    ...(doc.member?.phone ? ([[l.member, e(doc.member.phone)]] as [string, string][]) : []),
  ]

  const lines = doc.lines.length
    ? `<table><thead><tr><th>${l.item}</th><th class="num">${l.amount}</th></tr></thead><tbody>${doc.lines
        .map(
          (x) =>
            `<tr><td>${e(x.name)}<span class="sub">${e(formatQuantity(x.quantity, x.unit, doc.language))} × ${money(x.unitPrice)}${x.unit ? `/${e(x.unit)}` : ''}${x.discount.replace(/[0.]/g, '') ? ` − ${money(x.discount)}` : ''}${
              x.taxRate ? ` · ${l.tax} ${e(x.taxRate)}%` : ''
            }</span></td><td class="num">${money(x.amount)}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : ''

  const sums: string[] = []
  if (doc.kind === 'purchase' || doc.kind === 'capture') {
    if (doc.discounts.length) {
      sums.push(row(l.subtotal, money(doc.totals.subtotal), 'sum'))
      for (const d of doc.discounts) sums.push(row(e(d.label), `−${money(d.amount)}`, 'sum'))
    }
    if (doc.totals.authorized) sums.push(row(l.authorized, money(doc.totals.authorized), 'sum'))
  }
  sums.push(row(totalLabelOf(doc), money(doc.totals.total), 'grand'))
  for (const t of doc.tax.rates) sums.push(row(`${l.tax} ${e(t.rate)}% <span class="sub">${l.taxIncludedShort}</span>`, money(t.amount), 'sum'))

  const tenders = doc.tenders.length
    ? `<h2>${tendersLabelOf(doc)}</h2><table><tbody>${doc.tenders
        .map((t) => {
          const sub = [
            t.points !== undefined ? pts(t.points) : '',
            t.balanceAfter !== undefined ? `${l.balanceAfter}: ${money(t.balanceAfter)}` : '',
            t.pointsBalanceAfter !== undefined ? `${l.balanceAfter}: ${pts(t.pointsBalanceAfter)}` : '',
          ].filter(Boolean)
          return `<tr><td>${e(l.tender[t.type] ?? t.type)}${sub.length ? `<span class="sub">${sub.join(' · ')}</span>` : ''}</td><td class="num">${money(t.amount)}</td></tr>`
        })
        .join('')}</tbody></table>`
    : ''

  const p = doc.points
  const loyalty: string[] = []
  if (p.earned) loyalty.push(row(l.earned, `<span class="pos">+${pts(p.earned)}</span>`, 'sum'))
  if (p.redeemed) loyalty.push(row(l.redeemed, `−${pts(p.redeemed)}`, 'sum'))
  if (p.returned) loyalty.push(row(l.returnedPoints, `+${pts(p.returned)}`, 'sum'))
  if (p.clawedBack) loyalty.push(row(l.clawedBack, `−${pts(p.clawedBack)}`, 'sum'))
  if (p.debt) loyalty.push(row(l.debt, pts(p.debt), 'sum'))
  // A sale that named no member (gift cards and money) has no wallets to show.
  if (doc.member) {
    loyalty.push(row(l.pointsBalance, pts(p.balanceAfter), 'sum'))
    loyalty.push(row(l.storedValueBalance, money(doc.storedValue.balanceAfter), 'sum'))
  }
  if (doc.tier) {
    const next = doc.tier.next
    const remaining = next ? (next.unit === 'money' ? money(next.remaining) : pts(Number(next.remaining))) : ''
    loyalty.push(row(`${l.tier}${next ? `<span class="sub">${l.nextTier(remaining, e(next.name))}</span>` : ''}`, `<strong>${e(doc.tier.name)}</strong>`, 'sum'))
  }

  const inv = doc.invoice
  const invoice = inv
    ? `<h2>${l.invoice}</h2><dl><dt>${l.sellerTaxCode}</dt><dd>${e(inv.sellerTaxCode)}</dd>${inv.symbol ? `<dt>${l.invoiceSymbol}</dt><dd>${e(inv.symbol)}</dd>` : ''}<dt>${l.invoiceNumber}</dt><dd>${e(
        inv.number,
      )}</dd>${inv.lookupCode ? `<dt>${l.lookupCode}</dt><dd>${e(inv.lookupCode)}</dd>` : ''}${
        inv.lookupUrl && /^https?:\/\//.test(inv.lookupUrl) ? `<dt></dt><dd><a href="${e(inv.lookupUrl)}" rel="noopener noreferrer">${l.lookup}</a></dd>` : ''
      }</dl>`
    : ''

  return `<!doctype html>
<html lang="${doc.language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${e(titleOf(doc))} ${e(doc.number)} · ${e(doc.program.name)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<article class="card">
<h1>${e(doc.program.name)}</h1>
<p class="kind ${kindClass}">${e(titleOf(doc))}</p>
<dl>${meta.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl>
${lines}
<table><tbody>${sums.join('')}</tbody></table>
${tenders}
<h2>${l.points}</h2>
<table><tbody>${loyalty.join('')}</tbody></table>
${invoice}
${doc.note ? `<h2>${l.note}</h2><p>${e(doc.note)}</p>` : ''}
</article>
<footer>
<p>${l.thanks}</p>
<p>${l.taxIncluded}. ${l.notInvoice}</p>
${links.jws ? `<p><a href="${e(links.jws)}">${l.verify}</a></p>` : ''}
</footer>
</main>
</body>
</html>
`
}
