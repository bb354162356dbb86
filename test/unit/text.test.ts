import t from 'tap'
import { unstorableText, unstorableTextIn } from '../../src/shared/text.js'

t.test('NUL, lone surrogates and C0 control characters other than TAB, LF and CR are refused', async (t) => {
  t.match(unstorableText('Lan\u0000'), /U\+0000 at character 3/)
  t.match(unstorableText('\u001b[31m'), /U\+001B at character 0/)
  t.match(unstorableText('a\u007f\u0001'), /U\+0001 at character 2/, 'DEL is allowed, the C0 character after it is not')
  t.match(unstorableText('x\uD800'), /lone surrogate \(U\+D800\) at character 1/)
  t.match(unstorableText('\uDC00x'), /lone surrogate \(U\+DC00\)/, 'a low surrogate with no high one before it')
  t.match(unstorableText('\uD83D\uD83D\uDCB3'), /lone surrogate \(U\+D83D\) at character 0/, 'a high surrogate followed by a pair')
  for (const fine of ['', 'Trần Thị Lan', 'line 1\r\nline 2\tend\n', '💳 thẻ', 'e\u0301', '\u200B\u202E', '\u0080\u009f']) {
    t.equal(unstorableText(fine), undefined, JSON.stringify(fine))
  }
})

t.test('every refused string of a parsed request part is named by its path, outermost first', async (t) => {
  const body = { name: 'ok', lines: [{ sku: 'A' }, { sku: 'B\u0000', tags: ['x', '\u0007'] }], note: '\uD800' }
  t.same(
    unstorableTextIn(body, 'body').map((p) => p.path),
    ['body/note', 'body/lines/1/sku', 'body/lines/1/tags/1'],
  )
  t.same(unstorableTextIn('\u0000', 'body').map((p) => p.path), ['body'], 'a body that is one string')
  t.same(unstorableTextIn({ ok: 1, 'x\u0000y': { deeper: '\u0000' } }, 'body'), [
    { path: 'body/x\\u0000y', message: 'property name contains the control character U+0000 at character 1: control characters other than TAB, LF and CR are refused' },
  ], 'a refused property name is named with the character escaped, its value left alone')
  const query = Object.assign(Object.create(null), { storeId: 'S1\u0000' })
  t.same(unstorableTextIn(query, 'querystring').map((p) => p.path), ['querystring/storeId'], 'null-prototype objects (query strings, path parameters)')
  t.same(unstorableTextIn({ n: 1, b: true, z: null, u: undefined, buf: Buffer.from([0]) }, 'body'), [], 'numbers, booleans, null and buffers hold no text')
  t.same(unstorableTextIn(undefined, 'body'), [])
})

t.test('a hostile body cannot make the check expensive or exhaust the stack', async (t) => {
  const deep = JSON.parse(`${'['.repeat(50_000)}"\\u0000"${']'.repeat(50_000)}`)
  t.equal(unstorableTextIn(deep, 'body').length, 1, 'found 50,000 arrays deep')
  t.equal(unstorableTextIn(Array.from({ length: 100_000 }, () => '\u0000'), 'body').length, 10, 'at most 10 problems named')
})
