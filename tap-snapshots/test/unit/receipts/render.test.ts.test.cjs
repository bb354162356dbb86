/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`test/unit/receipts/render.test.ts > TAP > capture: HTML receipt > html page 1`] = `
<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Biên nhận thanh toán 260501-AAAAA-BBBB3 · Cà phê Sáng Đà Nẵng</title>
<style>:root{color-scheme:light dark;--fg:#1b1b1f;--muted:#5f6368;--line:#e3e3e8;--bg:#f6f6f8;--card:#fff;--accent:#0b6e4f}
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
a{color:var(--accent)}</style>
</head>
<body>
<main>
<article class="card">
<h1>Cà phê Sáng Đà Nẵng</h1>
<p class="kind ">Biên nhận thanh toán</p>
<dl><dt>Số biên nhận</dt><dd>260501-AAAAA-BBBB3</dd><dt>Thời gian</dt><dd>14:03 01/05/2026</dd><dt>Cửa hàng</dt><dd>HN-01</dd><dt>Quầy</dt><dd>T2</dd><dt>Số hóa đơn bán lẻ</dt><dd>POS-000123</dd><dt>Khách hàng</dt><dd>+84******678</dd></dl>
<table><thead><tr><th>Mặt hàng</th><th class="num">Thành tiền</th></tr></thead><tbody><tr><td>Cà phê sữa đá<span class="sub">2 × <span class="amt">45.000 ₫</span> − <span class="amt">10.000 ₫</span> · Thuế GTGT 8%</span></td><td class="num"><span class="amt">80.000 ₫</span></td></tr><tr><td>Bánh mì thịt<span class="sub">1 × <span class="amt">65.000 ₫</span> · Thuế GTGT 10%</span></td><td class="num"><span class="amt">65.000 ₫</span></td></tr><tr><td>Nước suối<span class="sub">1 × <span class="amt">10.000 ₫</span></span></td><td class="num"><span class="amt">10.000 ₫</span></td></tr></tbody></table>
<table><tbody><tr class="sum"><td>Tạm tính</td><td class="num"><span class="amt">165.000 ₫</span></td></tr><tr class="sum"><td>Giảm giá trên hàng</td><td class="num">−<span class="amt">10.000 ₫</span></td></tr><tr class="sum"><td>Đã giữ trước</td><td class="num"><span class="amt">155.000 ₫</span></td></tr><tr class="grand"><td>Đã thanh toán</td><td class="num"><span class="amt">155.000 ₫</span></td></tr><tr class="sum"><td>Thuế GTGT 8% <span class="sub">đã gồm trong giá</span></td><td class="num"><span class="amt">5.926 ₫</span></td></tr><tr class="sum"><td>Thuế GTGT 10% <span class="sub">đã gồm trong giá</span></td><td class="num"><span class="amt">5.909 ₫</span></td></tr></tbody></table>
<h2>Thanh toán</h2><table><tbody><tr><td>Thẻ trả trước<span class="sub">Số dư còn lại: <span class="amt">40.000 ₫</span></span></td><td class="num"><span class="amt">60.000 ₫</span></td></tr><tr><td>Điểm<span class="sub"><span class="amt">400 điểm</span> · Số dư còn lại: <span class="amt">116 điểm</span></span></td><td class="num"><span class="amt">40.000 ₫</span></td></tr><tr><td>Tiền mặt</td><td class="num"><span class="amt">55.000 ₫</span></td></tr></tbody></table>
<h2>Điểm thưởng</h2>
<table><tbody><tr class="sum"><td>Điểm tích lũy</td><td class="num"><span class="pos">+<span class="amt">11 điểm</span></span></td></tr><tr class="sum"><td>Điểm đã dùng</td><td class="num">−<span class="amt">400 điểm</span></td></tr><tr class="sum"><td>Số dư điểm</td><td class="num"><span class="amt">116 điểm</span></td></tr><tr class="sum"><td>Số dư thẻ trả trước</td><td class="num"><span class="amt">40.000 ₫</span></td></tr></tbody></table>
<h2>Hóa đơn điện tử</h2><dl><dt>MST người bán</dt><dd>0101234567</dd><dt>Ký hiệu</dt><dd>1C26TAA</dd><dt>Số</dt><dd>00001234</dd><dt>Mã tra cứu</dt><dd>ABC123XYZ</dd><dt></dt><dd><a href="https://hoadon.example.vn/tra-cuu" rel="noopener noreferrer">Tra cứu hóa đơn</a></dd></dl>

</article>
<footer>
<p>Cảm ơn quý khách!</p>
<p>Giá đã bao gồm thuế GTGT. Biên nhận này không thay thế hóa đơn GTGT.</p>
<p><a href="/r/token/jws">Xác thực chữ ký số (JWS)</a></p>
</footer>
</main>
</body>
</html>

`

exports[`test/unit/receipts/render.test.ts > TAP > capture: the SMS is one GSM-7 message with the amount, the balance left, the points and the link > sms text 1`] = `
Ca phe Sang Da Nang: Thanh toan 155.000 VND. So du the 40.000 VND. Diem -389, con 116. Chi tiet: https://ll.example.vn/r/Abc_DEF-123456789
`

exports[`test/unit/receipts/render.test.ts > TAP > pending purchase: HTML receipt > html page 1`] = `
<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Đơn hàng đang giữ tiền 260501-AAAAA-BBBB2 · Cà phê Sáng Đà Nẵng</title>
<style>:root{color-scheme:light dark;--fg:#1b1b1f;--muted:#5f6368;--line:#e3e3e8;--bg:#f6f6f8;--card:#fff;--accent:#0b6e4f}
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
a{color:var(--accent)}</style>
</head>
<body>
<main>
<article class="card">
<h1>Cà phê Sáng Đà Nẵng</h1>
<p class="kind pending">Đơn hàng đang giữ tiền</p>
<dl><dt>Số biên nhận</dt><dd>260501-AAAAA-BBBB2</dd><dt>Thời gian</dt><dd>14:02 01/05/2026</dd><dt>Cửa hàng</dt><dd>HN-01</dd><dt>Quầy</dt><dd>T2</dd><dt>Số hóa đơn bán lẻ</dt><dd>POS-000123</dd><dt>Khách hàng</dt><dd>+84******678</dd></dl>
<table><thead><tr><th>Mặt hàng</th><th class="num">Thành tiền</th></tr></thead><tbody><tr><td>Cà phê sữa đá<span class="sub">2 × <span class="amt">45.000 ₫</span> − <span class="amt">10.000 ₫</span> · Thuế GTGT 8%</span></td><td class="num"><span class="amt">80.000 ₫</span></td></tr><tr><td>Bánh mì thịt<span class="sub">1 × <span class="amt">65.000 ₫</span> · Thuế GTGT 10%</span></td><td class="num"><span class="amt">65.000 ₫</span></td></tr><tr><td>Nước suối<span class="sub">1 × <span class="amt">10.000 ₫</span></span></td><td class="num"><span class="amt">10.000 ₫</span></td></tr></tbody></table>
<table><tbody><tr class="sum"><td>Tạm tính</td><td class="num"><span class="amt">165.000 ₫</span></td></tr><tr class="sum"><td>Giảm giá trên hàng</td><td class="num">−<span class="amt">10.000 ₫</span></td></tr><tr class="grand"><td>Số tiền giữ</td><td class="num"><span class="amt">155.000 ₫</span></td></tr><tr class="sum"><td>Thuế GTGT 8% <span class="sub">đã gồm trong giá</span></td><td class="num"><span class="amt">5.926 ₫</span></td></tr><tr class="sum"><td>Thuế GTGT 10% <span class="sub">đã gồm trong giá</span></td><td class="num"><span class="amt">5.909 ₫</span></td></tr></tbody></table>
<h2>Thanh toán</h2><table><tbody><tr><td>Thẻ trả trước<span class="sub">Số dư còn lại: <span class="amt">40.000 ₫</span></span></td><td class="num"><span class="amt">60.000 ₫</span></td></tr><tr><td>Điểm<span class="sub"><span class="amt">400 điểm</span> · Số dư còn lại: <span class="amt">100 điểm</span></span></td><td class="num"><span class="amt">40.000 ₫</span></td></tr><tr><td>Tiền mặt</td><td class="num"><span class="amt">55.000 ₫</span></td></tr></tbody></table>
<h2>Điểm thưởng</h2>
<table><tbody><tr class="sum"><td>Điểm đã dùng</td><td class="num">−<span class="amt">400 điểm</span></td></tr><tr class="sum"><td>Số dư điểm</td><td class="num"><span class="amt">100 điểm</span></td></tr><tr class="sum"><td>Số dư thẻ trả trước</td><td class="num"><span class="amt">40.000 ₫</span></td></tr></tbody></table>
<h2>Hóa đơn điện tử</h2><dl><dt>MST người bán</dt><dd>0101234567</dd><dt>Ký hiệu</dt><dd>1C26TAA</dd><dt>Số</dt><dd>00001234</dd><dt>Mã tra cứu</dt><dd>ABC123XYZ</dd><dt></dt><dd><a href="https://hoadon.example.vn/tra-cuu" rel="noopener noreferrer">Tra cứu hóa đơn</a></dd></dl>

</article>
<footer>
<p>Cảm ơn quý khách!</p>
<p>Giá đã bao gồm thuế GTGT. Biên nhận này không thay thế hóa đơn GTGT.</p>
<p><a href="/r/token/jws">Xác thực chữ ký số (JWS)</a></p>
</footer>
</main>
</body>
</html>

`

exports[`test/unit/receipts/render.test.ts > TAP > pending purchase: the SMS is one GSM-7 message with the amount, the balance left, the points and the link > sms text 1`] = `
Ca phe Sang Da Nang: Giu tien don hang 155.000 VND. So du the 40.000 VND. Diem -400, con 100. Chi tiet: https://ll.example.vn/r/Abc_DEF-123456789
`

exports[`test/unit/receipts/render.test.ts > TAP > purchase: HTML receipt > html page 1`] = `
<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Biên nhận bán hàng 260501-AAAAA-BBBB1 · Cà phê Sáng Đà Nẵng</title>
<style>:root{color-scheme:light dark;--fg:#1b1b1f;--muted:#5f6368;--line:#e3e3e8;--bg:#f6f6f8;--card:#fff;--accent:#0b6e4f}
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
a{color:var(--accent)}</style>
</head>
<body>
<main>
<article class="card">
<h1>Cà phê Sáng Đà Nẵng</h1>
<p class="kind ">Biên nhận bán hàng</p>
<dl><dt>Số biên nhận</dt><dd>260501-AAAAA-BBBB1</dd><dt>Thời gian</dt><dd>14:02 01/05/2026</dd><dt>Cửa hàng</dt><dd>HN-01</dd><dt>Quầy</dt><dd>T2</dd><dt>Số hóa đơn bán lẻ</dt><dd>POS-000123</dd><dt>Khách hàng</dt><dd>+84******678</dd></dl>
<table><thead><tr><th>Mặt hàng</th><th class="num">Thành tiền</th></tr></thead><tbody><tr><td>Cà phê sữa đá<span class="sub">2 × <span class="amt">45.000 ₫</span> − <span class="amt">10.000 ₫</span> · Thuế GTGT 8%</span></td><td class="num"><span class="amt">80.000 ₫</span></td></tr><tr><td>Bánh mì thịt<span class="sub">1 × <span class="amt">65.000 ₫</span> · Thuế GTGT 10%</span></td><td class="num"><span class="amt">65.000 ₫</span></td></tr><tr><td>Nước suối<span class="sub">1 × <span class="amt">10.000 ₫</span></span></td><td class="num"><span class="amt">10.000 ₫</span></td></tr></tbody></table>
<table><tbody><tr class="sum"><td>Tạm tính</td><td class="num"><span class="amt">165.000 ₫</span></td></tr><tr class="sum"><td>Giảm giá trên hàng</td><td class="num">−<span class="amt">10.000 ₫</span></td></tr><tr class="grand"><td>Tổng cộng</td><td class="num"><span class="amt">155.000 ₫</span></td></tr><tr class="sum"><td>Thuế GTGT 8% <span class="sub">đã gồm trong giá</span></td><td class="num"><span class="amt">5.926 ₫</span></td></tr><tr class="sum"><td>Thuế GTGT 10% <span class="sub">đã gồm trong giá</span></td><td class="num"><span class="amt">5.909 ₫</span></td></tr></tbody></table>
<h2>Thanh toán</h2><table><tbody><tr><td>Thẻ trả trước<span class="sub">Số dư còn lại: <span class="amt">40.000 ₫</span></span></td><td class="num"><span class="amt">60.000 ₫</span></td></tr><tr><td>Điểm<span class="sub"><span class="amt">400 điểm</span> · Số dư còn lại: <span class="amt">116 điểm</span></span></td><td class="num"><span class="amt">40.000 ₫</span></td></tr><tr><td>Tiền mặt</td><td class="num"><span class="amt">55.000 ₫</span></td></tr></tbody></table>
<h2>Điểm thưởng</h2>
<table><tbody><tr class="sum"><td>Điểm tích lũy</td><td class="num"><span class="pos">+<span class="amt">11 điểm</span></span></td></tr><tr class="sum"><td>Điểm đã dùng</td><td class="num">−<span class="amt">400 điểm</span></td></tr><tr class="sum"><td>Số dư điểm</td><td class="num"><span class="amt">116 điểm</span></td></tr><tr class="sum"><td>Số dư thẻ trả trước</td><td class="num"><span class="amt">40.000 ₫</span></td></tr></tbody></table>
<h2>Hóa đơn điện tử</h2><dl><dt>MST người bán</dt><dd>0101234567</dd><dt>Ký hiệu</dt><dd>1C26TAA</dd><dt>Số</dt><dd>00001234</dd><dt>Mã tra cứu</dt><dd>ABC123XYZ</dd><dt></dt><dd><a href="https://hoadon.example.vn/tra-cuu" rel="noopener noreferrer">Tra cứu hóa đơn</a></dd></dl>

</article>
<footer>
<p>Cảm ơn quý khách!</p>
<p>Giá đã bao gồm thuế GTGT. Biên nhận này không thay thế hóa đơn GTGT.</p>
<p><a href="/r/token/jws">Xác thực chữ ký số (JWS)</a></p>
</footer>
</main>
</body>
</html>

`

exports[`test/unit/receipts/render.test.ts > TAP > purchase: the SMS is one GSM-7 message with the amount, the balance left, the points and the link > sms text 1`] = `
Ca phe Sang Da Nang: Thanh toan 155.000 VND. So du the 40.000 VND. Diem -389, con 116. Chi tiet: https://ll.example.vn/r/Abc_DEF-123456789
`

exports[`test/unit/receipts/render.test.ts > TAP > return: HTML receipt > html page 1`] = `
<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Biên nhận trả hàng 260501-AAAAA-BBBB5 · Cà phê Sáng Đà Nẵng</title>
<style>:root{color-scheme:light dark;--fg:#1b1b1f;--muted:#5f6368;--line:#e3e3e8;--bg:#f6f6f8;--card:#fff;--accent:#0b6e4f}
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
a{color:var(--accent)}</style>
</head>
<body>
<main>
<article class="card">
<h1>Cà phê Sáng Đà Nẵng</h1>
<p class="kind ">Biên nhận trả hàng</p>
<dl><dt>Số biên nhận</dt><dd>260501-AAAAA-BBBB5</dd><dt>Thời gian</dt><dd>10:15 02/05/2026</dd><dt>Cửa hàng</dt><dd>HN-01</dd><dt>Quầy</dt><dd>T2</dd><dt>Số hóa đơn bán lẻ</dt><dd>POS-000123</dd><dt>Khách hàng</dt><dd>+84******678</dd></dl>
<table><thead><tr><th>Mặt hàng</th><th class="num">Thành tiền</th></tr></thead><tbody><tr><td>Cà phê sữa đá<span class="sub">1 × <span class="amt">45.000 ₫</span> − <span class="amt">5.000 ₫</span> · Thuế GTGT 8%</span></td><td class="num"><span class="amt">40.000 ₫</span></td></tr></tbody></table>
<table><tbody><tr class="grand"><td>Tổng tiền hoàn</td><td class="num"><span class="amt">40.000 ₫</span></td></tr><tr class="sum"><td>Thuế GTGT 8% <span class="sub">đã gồm trong giá</span></td><td class="num"><span class="amt">2.963 ₫</span></td></tr></tbody></table>
<h2>Hoàn lại vào</h2><table><tbody><tr><td>Thẻ trả trước<span class="sub">Số dư còn lại: <span class="amt">55.484 ₫</span></span></td><td class="num"><span class="amt">15.484 ₫</span></td></tr><tr><td>Điểm<span class="sub"><span class="amt">103 điểm</span> · Số dư còn lại: <span class="amt">216 điểm</span></span></td><td class="num"><span class="amt">10.300 ₫</span></td></tr><tr><td>Tiền mặt</td><td class="num"><span class="amt">14.216 ₫</span></td></tr></tbody></table>
<h2>Điểm thưởng</h2>
<table><tbody><tr class="sum"><td>Điểm hoàn lại</td><td class="num">+<span class="amt">103 điểm</span></td></tr><tr class="sum"><td>Điểm bị thu hồi</td><td class="num">−<span class="amt">3 điểm</span></td></tr><tr class="sum"><td>Số dư điểm</td><td class="num"><span class="amt">216 điểm</span></td></tr><tr class="sum"><td>Số dư thẻ trả trước</td><td class="num"><span class="amt">55.484 ₫</span></td></tr></tbody></table>

<h2>Ghi chú</h2><p>Khách đổi ý</p>
</article>
<footer>
<p>Cảm ơn quý khách!</p>
<p>Giá đã bao gồm thuế GTGT. Biên nhận này không thay thế hóa đơn GTGT.</p>
<p><a href="/r/token/jws">Xác thực chữ ký số (JWS)</a></p>
</footer>
</main>
</body>
</html>

`

exports[`test/unit/receipts/render.test.ts > TAP > return: the SMS is one GSM-7 message with the amount, the balance left, the points and the link > sms text 1`] = `
Ca phe Sang Da Nang: Hoan tra 40.000 VND. So du the 55.484 VND. Diem +100, con 216. Chi tiet: https://ll.example.vn/r/Abc_DEF-123456789
`

exports[`test/unit/receipts/render.test.ts > TAP > top-up: HTML receipt > html page 1`] = `
<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Biên nhận nạp tiền 260501-AAAAA-BBBB6 · Cà phê Sáng Đà Nẵng</title>
<style>:root{color-scheme:light dark;--fg:#1b1b1f;--muted:#5f6368;--line:#e3e3e8;--bg:#f6f6f8;--card:#fff;--accent:#0b6e4f}
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
a{color:var(--accent)}</style>
</head>
<body>
<main>
<article class="card">
<h1>Cà phê Sáng Đà Nẵng</h1>
<p class="kind ">Biên nhận nạp tiền</p>
<dl><dt>Số biên nhận</dt><dd>260501-AAAAA-BBBB6</dd><dt>Thời gian</dt><dd>19:00 01/05/2026</dd><dt>Cửa hàng</dt><dd>HN-01</dd><dt>Khách hàng</dt><dd>+84******678</dd></dl>

<table><tbody><tr class="grand"><td>Số tiền nạp</td><td class="num"><span class="amt">500.000 ₫</span></td></tr></tbody></table>
<h2>Hình thức nạp</h2><table><tbody><tr><td>Tiền mặt</td><td class="num"><span class="amt">500.000 ₫</span></td></tr></tbody></table>
<h2>Điểm thưởng</h2>
<table><tbody><tr class="sum"><td>Số dư điểm</td><td class="num"><span class="amt">0 điểm</span></td></tr><tr class="sum"><td>Số dư thẻ trả trước</td><td class="num"><span class="amt">540.000 ₫</span></td></tr></tbody></table>


</article>
<footer>
<p>Cảm ơn quý khách!</p>
<p>Giá đã bao gồm thuế GTGT. Biên nhận này không thay thế hóa đơn GTGT.</p>
<p><a href="/r/token/jws">Xác thực chữ ký số (JWS)</a></p>
</footer>
</main>
</body>
</html>

`

exports[`test/unit/receipts/render.test.ts > TAP > top-up: the SMS is one GSM-7 message with the amount, the balance left, the points and the link > sms text 1`] = `
Ca phe Sang Da Nang: Nap the 500.000 VND. So du the 540.000 VND. Chi tiet: https://ll.example.vn/r/Abc_DEF-123456789
`

exports[`test/unit/receipts/render.test.ts > TAP > usd purchase: HTML receipt > html page 1`] = `
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Sales receipt 260501-AAAAA-BBBB7 · Corner Deli</title>
<style>:root{color-scheme:light dark;--fg:#1b1b1f;--muted:#5f6368;--line:#e3e3e8;--bg:#f6f6f8;--card:#fff;--accent:#0b6e4f}
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
a{color:var(--accent)}</style>
</head>
<body>
<main>
<article class="card">
<h1>Corner Deli</h1>
<p class="kind ">Sales receipt</p>
<dl><dt>Receipt no.</dt><dd>260501-AAAAA-BBBB7</dd><dt>Date</dt><dd>2026-05-01 12:30</dd><dt>Store</dt><dd>NYC-5</dd><dt>Terminal</dt><dd>REG-1</dd><dt>POS receipt no.</dt><dd>R-77</dd><dt>Member</dt><dd>+12******890</dd></dl>
<table><thead><tr><th>Item</th><th class="num">Amount</th></tr></thead><tbody><tr><td>T-shirt<span class="sub">2 × <span class="amt">$12.99</span></span></td><td class="num"><span class="amt">$25.98</span></td></tr></tbody></table>
<table><tbody><tr class="grand"><td>Total</td><td class="num"><span class="amt">$25.98</span></td></tr></tbody></table>
<h2>Paid with</h2><table><tbody><tr><td>Card</td><td class="num"><span class="amt">$25.98</span></td></tr></tbody></table>
<h2>Loyalty points</h2>
<table><tbody><tr class="sum"><td>Points earned</td><td class="num"><span class="pos">+<span class="amt">25 points</span></span></td></tr><tr class="sum"><td>Points balance</td><td class="num"><span class="amt">25 points</span></td></tr><tr class="sum"><td>Stored value balance</td><td class="num"><span class="amt">$0.00</span></td></tr></tbody></table>


</article>
<footer>
<p>Thank you!</p>
<p>Prices include tax. This receipt is not a tax invoice.</p>
<p><a href="/r/token/jws">Verify the digital signature (JWS)</a></p>
</footer>
</main>
</body>
</html>

`

exports[`test/unit/receipts/render.test.ts > TAP > usd purchase: the SMS is one GSM-7 message with the amount, the balance left, the points and the link > sms text 1`] = `
Corner Deli: Paid $25.98. Points +25, total 25. Details: https://ll.example.vn/r/Abc_DEF-123456789
`

exports[`test/unit/receipts/render.test.ts > TAP > void: HTML receipt > html page 1`] = `
<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Biên nhận hủy đơn 260501-AAAAA-BBBB4 · Cà phê Sáng Đà Nẵng</title>
<style>:root{color-scheme:light dark;--fg:#1b1b1f;--muted:#5f6368;--line:#e3e3e8;--bg:#f6f6f8;--card:#fff;--accent:#0b6e4f}
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
a{color:var(--accent)}</style>
</head>
<body>
<main>
<article class="card">
<h1>Cà phê Sáng Đà Nẵng</h1>
<p class="kind void">Biên nhận hủy đơn</p>
<dl><dt>Số biên nhận</dt><dd>260501-AAAAA-BBBB4</dd><dt>Thời gian</dt><dd>14:03 01/05/2026</dd><dt>Cửa hàng</dt><dd>HN-01</dd><dt>Quầy</dt><dd>T2</dd><dt>Số hóa đơn bán lẻ</dt><dd>POS-000123</dd><dt>Khách hàng</dt><dd>+84******678</dd></dl>
<table><thead><tr><th>Mặt hàng</th><th class="num">Thành tiền</th></tr></thead><tbody><tr><td>Cà phê sữa đá<span class="sub">2 × <span class="amt">45.000 ₫</span> − <span class="amt">10.000 ₫</span> · Thuế GTGT 8%</span></td><td class="num"><span class="amt">80.000 ₫</span></td></tr><tr><td>Bánh mì thịt<span class="sub">1 × <span class="amt">65.000 ₫</span> · Thuế GTGT 10%</span></td><td class="num"><span class="amt">65.000 ₫</span></td></tr><tr><td>Nước suối<span class="sub">1 × <span class="amt">10.000 ₫</span></span></td><td class="num"><span class="amt">10.000 ₫</span></td></tr></tbody></table>
<table><tbody><tr class="grand"><td>Đã hoàn lại (giữ tiền được giải phóng)</td><td class="num"><span class="amt">155.000 ₫</span></td></tr></tbody></table>
<h2>Đã giải phóng</h2><table><tbody><tr><td>Thẻ trả trước<span class="sub">Số dư còn lại: <span class="amt">100.000 ₫</span></span></td><td class="num"><span class="amt">60.000 ₫</span></td></tr><tr><td>Điểm<span class="sub"><span class="amt">400 điểm</span> · Số dư còn lại: <span class="amt">500 điểm</span></span></td><td class="num"><span class="amt">40.000 ₫</span></td></tr><tr><td>Tiền mặt</td><td class="num"><span class="amt">55.000 ₫</span></td></tr></tbody></table>
<h2>Điểm thưởng</h2>
<table><tbody><tr class="sum"><td>Số dư điểm</td><td class="num"><span class="amt">500 điểm</span></td></tr><tr class="sum"><td>Số dư thẻ trả trước</td><td class="num"><span class="amt">100.000 ₫</span></td></tr></tbody></table>
<h2>Hóa đơn điện tử</h2><dl><dt>MST người bán</dt><dd>0101234567</dd><dt>Ký hiệu</dt><dd>1C26TAA</dd><dt>Số</dt><dd>00001234</dd><dt>Mã tra cứu</dt><dd>ABC123XYZ</dd><dt></dt><dd><a href="https://hoadon.example.vn/tra-cuu" rel="noopener noreferrer">Tra cứu hóa đơn</a></dd></dl>
<h2>Ghi chú</h2><p>Khách hủy</p>
</article>
<footer>
<p>Cảm ơn quý khách!</p>
<p>Giá đã bao gồm thuế GTGT. Biên nhận này không thay thế hóa đơn GTGT.</p>
<p><a href="/r/token/jws">Xác thực chữ ký số (JWS)</a></p>
</footer>
</main>
</body>
</html>

`

exports[`test/unit/receipts/render.test.ts > TAP > void: the SMS is one GSM-7 message with the amount, the balance left, the points and the link > sms text 1`] = `
Ca phe Sang Da Nang: Huy don, hoan 155.000 VND. So du the 100.000 VND. Diem 0, con 500. Chi tiet: https://ll.example.vn/r/Abc_DEF-123456789
`
