"""The ladder diagram's words, in English and Chinese.

Kept apart from :mod:`toytls.story.ladder` like the narration's sentences.
Each entry is an (English, Chinese) pair. Message names stay as the
protocol spells them (ClientHello, {Finished}); what a message carries is
said in the article's names: the server's B+/B−, key X, digests T and S
(公钥B+, 私钥B−, 密钥X, 摘要T/S). Braces around a name mean the record is
encrypted, as in the TLS specifications' own diagrams. Placeholders are
filled with values that may come from a peer; the SVG escapes them.
"""

from __future__ import annotations

#: Lane names, by role.
LANES: dict[str, tuple[str, str]] = {
    "client": ("Client", "客户端"),
    "server": ("Server (B+, B−)", "服务器（B+、B−）"),
    "attacker": ("Attacker in the middle", "中间人"),
    "you": ("You (your client)", "你（你的客户端）"),
    "eavesdropper": ("Eavesdropper", "窃听者"),
}

#: Arrow labels (the message) and what each carries.
ARROWS: dict[str, tuple[str, str]] = {
    "hello": ("ClientHello for '{name}'", "ClientHello：请求 '{name}'"),
    "hello_carries": ("client random {random}", "客户端随机数 {random}"),
    "server_hello": ("ServerHello", "ServerHello"),
    "server_hello_carries": ("server random {random}", "服务器随机数 {random}"),
    "certificate": ("Certificate ({names})", "Certificate（{names}）"),
    "certificate_carries": (
        "the server's B+ in the leaf · leaf sha256 {fp}",
        "服务器证书里装着公钥B+ · sha256 {fp}",
    ),
    "cke": ("ClientKeyExchange", "ClientKeyExchange"),
    "cke_carries": ("key X locked with B+ ({n} bytes)", "用公钥B+ 锁住的密钥X（{n} 字节）"),
    "finished": ("{{Finished}}", "{{Finished}}"),
    "finished_carries": ("verify_data {value}", "verify_data {value}"),
    "data": ("{{application data}} {n} bytes", "{{应用数据}} {n} 字节"),
    "data_carries": ("{preview}", "{preview}"),
    "alert": ("alert {name}", "警报 {name}"),
    "alert_protected": ("{{alert {name}}}", "{{警报 {name}}}"),
    "alert_carries": ("{meaning}", "{meaning}"),
    "handshake_other": ("handshake message {code}", "握手消息 {code}"),
    "encrypted": ("encrypted", "已加密"),
    "clear": ("in clear", "明文"),
    "record_unknown": ("record ({kind}, {n} bytes)", "记录（{kind}，{n} 字节）"),
    "plaintext": ("plain TCP, no toytls: {n} bytes", "明文 TCP，没有 toytls：{n} 字节"),
    "plaintext_carries": ("'{text}'", "'{text}'"),
}

#: Notes written on a lane: checks, keys, verdicts, the attacker's deeds.
NOTES: dict[str, tuple[str, str]] = {
    "link_ok": (
        "checks #{index} {subject} ← {issuer}: T = S = {s} ✓",
        "检查 #{index} {subject} ← {issuer}：T = S = {s} ✓",
    ),
    "link_bad": (
        "checks #{index} {subject}: S = {s}, T = {t} → T ≠ S ✗",
        "检查 #{index} {subject}：S = {s}，T = {t} → T ≠ S ✗",
    ),
    "link_unknown": (
        "checks #{index} {subject}: issuer {issuer} unknown ✗",
        "检查 #{index} {subject}：签发者 {issuer} 不受信任 ✗",
    ),
    "chain_ok": (
        "chain leads to a trusted root, name '{name}' matches ✓",
        "信任链通到信任的根证书，域名 '{name}' 对得上 ✓",
    ),
    "skipped": (
        "does NOT check the certificate: trusts any B+",
        "不检查数字证书：任何 B+ 都信",
    ),
    "keys_client": ("makes key X · fingerprint {fp}", "生成密钥X · 指纹 {fp}"),
    "keys_server": ("unlocks key X with B− · fingerprint {fp}", "用私钥B− 解出密钥X · 指纹 {fp}"),
    "complete": ("handshake done ✓ key X {fp}", "握手完成 ✓ 密钥X {fp}"),
    "failed": ("✗ stopped: {alert} — {why}", "✗ 中止：{alert} —— {why}"),
    "failed_by_peer": ("✗ ended by the peer's alert {alert}", "✗ 对方以警报 {alert} 结束连接"),
    "close": ("peer closed cleanly (close_notify)", "对方正常关闭（close_notify）"),
    "forged": (
        "ATTACK: answers with a forged chain ({mode})",
        "攻击：用伪造的证书链应答（{mode}）",
    ),
    "swapped": (
        "ATTACK: the real certificate, his own M+ inside",
        "攻击：真证书，里面换成他自己的公钥M+",
    ),
    "stole_key": (
        "has key X {fp}: unlocked with his own M−",
        "拿到密钥X {fp}：用他自己的私钥M− 解开",
    ),
    "reads": ("reads: '{text}'", "读到：'{text}'"),
    "attack_failed": ("attack failed: {why}", "攻击失败：{why}"),
    "cut": (
        "ATTACK: cuts both connections, no close_notify",
        "攻击：直接切断两边连接，不发 close_notify",
    ),
    "refused": (
        "the client's alert {alert} passes by: it noticed",
        "客户端的警报 {alert} 经过：它发现了",
    ),
    "not_visible": (
        "(what your client checked is not visible to the server)",
        "（你的客户端检查了什么，服务器看不到）",
    ),
}

#: Labels of the attacker's changes, drawn on the arrow he changed.
CHANGES: dict[str, tuple[str, str]] = {
    "swap_key": ("CHANGED: B+ swapped for the attacker's M+", "被篡改：B+ 换成了中间人的 M+"),
    "forged_chain": ("FORGED: not the server's chain", "伪造：不是服务器的证书链"),
    "tamper": ("CHANGED: one letter of the signed name", "被篡改：签名内容里的域名改了一个字母"),
    "flip": ("CHANGED: one bit flipped", "被篡改：翻转了一个比特"),
    "replay": ("REPLAYED: the same record again", "重放：同一条记录又发一次"),
    "rewrite": ("CHANGED: '{text}'", "被篡改：'{text}'"),
    "truncate": ("CUT after this record", "在这条记录之后切断"),
}

#: The legend under each diagram.
LEGEND: dict[str, tuple[str, str]] = {
    "clear": ("in clear", "明文"),
    "encrypted": ("encrypted (lock)", "已加密（锁）"),
    "changed": ("changed by the attacker", "被中间人篡改"),
    "stopped": ("where it stopped", "在此中止"),
}
