"""The proxy's outcome sentences that name a cause, in English and Chinese.

Kept apart from :mod:`toytls.cli.proxy_log` like the narration's sentences:
each entry is ``(English, Chinese)``. What the attacker says is only what he
did and what he saw; what the client checked he can tell only from what it
sent back.
"""

from __future__ import annotations

import errno

from ..attacker import outcomes as out
from ..attacker.modes import Mode
from ..core.constants import AlertDescription

#: What the client refused in each mode, when its alert is the one that
#: forgery calls for: (mode, alert) -> (English, Chinese).
REFUSED: dict[tuple[Mode, int], tuple[str, str]] = {
    (Mode.SWAP_KEY, AlertDescription.BAD_CERTIFICATE): (
        "the real certificate with the key swapped for M+ no longer matches its CA "
        "signature (T ≠ S)",
        "公钥被换成 M+ 的真证书与 CA 的数字签名对不上（T ≠ S）",
    ),
    (Mode.TAMPER_CERT, AlertDescription.BAD_CERTIFICATE): (
        "the certificate with one letter of its name changed no longer matches its CA "
        "signature (T ≠ S)",
        "改了域名中一个字母的证书与 CA 的数字签名对不上（T ≠ S）",
    ),
    (Mode.SWAP_CERT, AlertDescription.BAD_CERTIFICATE): (
        "the attacker's certificate is genuine, but it was issued to attacker.test, "
        "not to the name the client asked for",
        "攻击者的证书是真的，但它是签发给 attacker.test 的，不是客户端要访问的域名",
    ),
    (Mode.SELF_SIGNED, AlertDescription.UNKNOWN_CA): (
        "the certificate is signed by the attacker himself; no root the client trusts "
        "vouches for it",
        "这张证书是攻击者自己签的，客户端信任的根证书没有为它担保",
    ),
    (Mode.OWN_CA, AlertDescription.UNKNOWN_CA): (
        "the certificate comes from the attacker's own root CA, which the client does not trust",
        "这张证书出自攻击者自己的根 CA，而客户端不信任这个根证书",
    ),
}


#: What the client accepted in each man-in-the-middle mode: (English, Chinese).
ACCEPTED: dict[Mode, tuple[str, str]] = {
    Mode.SWAP_KEY: (
        "the real certificate with its key B+ swapped for the attacker's M+ (its CA "
        "signature no longer matches: a client that checks refuses it)",
        "公钥B+ 被换成攻击者公钥 M+ 的真证书（它与 CA 的数字签名已经对不上，做检查的客户端会拒绝）",
    ),
    Mode.SWAP_CERT: (
        "the attacker's own certificate: genuine, issued by the same CA, but to "
        "attacker.test, not to the name it asked for",
        "攻击者自己的真证书（由同一个 CA 签发，但签发给的是 attacker.test，不是它要访问的域名）",
    ),
    Mode.SELF_SIGNED: (
        "a certificate for its name that the attacker signed himself",
        "攻击者自己签名的、写着它要访问的域名的证书",
    ),
    Mode.OWN_CA: (
        "a certificate for its name issued by the attacker's own root CA",
        "攻击者自己的根 CA 为它要访问的域名签发的证书",
    ),
}


#: The attacker's change, as a noun phrase: (English, Chinese).
CHANGE: dict[out.Alteration, tuple[str, str]] = {
    out.Alteration.TAMPER_CERTIFICATE: ("the tampered certificate", "被篡改的证书"),
    out.Alteration.FLIP: ("the flipped record", "被翻转了一位的记录"),
    out.Alteration.REPLAY: ("the replayed record", "被重放的记录"),
    out.Alteration.TRUNCATE: ("the cut", "切断连接"),
    out.Alteration.REWRITE: ("the rewrite", "改写"),
}


#: A client's encrypted alert, which the attacker cannot read.
ENCRYPTED_ALERT: dict[str, tuple[str, str]] = {
    "plain": (
        "the client sent an encrypted alert: the attacker cannot read which "
        "(a close_notify, the normal end of its data, looks the same)",
        "客户端发出一条加密的警报：攻击者读不出是哪一种（正常结束时的 close_notify 看起来也一样）",
    ),
    "after": (
        "after {change}, the client sent an encrypted alert: the attacker cannot read which",
        "在{change}之后，客户端发出一条加密的警报：攻击者读不出是哪一种",
    ),
}

#: Who sent encrypted alerts after the attacker's change.
ALERTS_AFTER: dict[str, tuple[str, str]] = {
    "both": (
        "after it both sides sent an encrypted alert and the connection ended",
        "之后双方都发出了加密的警报，连接随即结束",
    ),
    "client": (
        "after it the client sent an encrypted alert and the connection ended",
        "之后客户端发出了加密的警报，连接随即结束",
    ),
    "server": (
        "after it the server sent an encrypted alert and the connection ended",
        "之后服务器发出了加密的警报，连接随即结束",
    ),
    "none": (
        "after it neither side sent an alert; the connection ended",
        "之后双方都没再发出警报，连接就结束了",
    ),
}

#: What came of a relay mode's change, told when the connection ends.
ENDED: dict[str, tuple[str, str]] = {
    "tamper_unchecked": (
        "outcome: the client accepted the tampered certificate unchecked and sent key X "
        "locked with the server's real B+ (the attacker cannot open it); both ends hold the "
        "same X, but the key schedule mixes in the handshake transcript and the two ends saw "
        "different certificates, so their keys differ and the first encrypted record "
        "(Finished) cannot be decrypted; {seen}",
        "结果：客户端没有检查就接受了被篡改的证书，用服务器真正的公钥B+ 锁住密钥X 发了出去"
        "（攻击者解不开）；两端持有同一个密钥X，但密钥派生混入了握手记录，而两端看到的证书"
        "不一样，所以派生出的密钥不同，第一条加密记录（Finished）无法解密；{seen}",
    ),
    "tamper_no_key": (
        "outcome: the client never sent key X; {seen}",
        "结果：客户端没有发出密钥X；{seen}",
    ),
    "flip": (
        "outcome: a record with one bit flipped cannot pass the client's tag check "
        "(AES-GCM); changing ciphertext unnoticed takes keys from X, which the attacker does "
        "not have; {seen}. He can break the connection, not change what it carries unnoticed",
        "结果：被翻转一位的记录通不过客户端的认证标签检查（AES-GCM）；要改密文而不被发现，"
        "需要由密钥X 派生的密钥，攻击者没有；{seen}。攻击者能打断连接，却改不了内容而不被察觉",
    ),
    "replay": (
        "outcome: the copy reached the client in the place of the next record; the nonce "
        "comes from the record's sequence number, so the copy fails the tag check and the "
        "client cannot be made to take a record twice; {seen}",
        "结果：重放的副本到达客户端时顶着下一个序号；nonce 由序号算出，所以它通不过认证标签"
        "检查，客户端不会把同一条记录收两次；{seen}",
    ),
    "truncate": (
        "outcome: the attacker cut both connections without close_notify; data that does "
        "not end with close_notify is told apart from a clean end (truncation) by the side "
        "receiving it",
        "结果：攻击者在没有 close_notify 的情况下切断了两条连接；数据没有以 close_notify "
        "结束，接收方能把这种截断和正常结束区分开",
    ),
}

#: Each mode's one-line description (:data:`~toytls.attacker.modes.DESCRIPTIONS`)
#: in Chinese, for the proxy's start line.
MODE_ZH: dict[str, str] = {
    "watch": "只旁观：转发并解读每一条记录",
    "swap-key": "偷梁换柱：保留真证书，把其中的公钥换成攻击者的 M+",
    "tamper-cert": "改动证书签名部分里的主体名称",
    "swap-cert": "证书调包：出示攻击者自己的真证书（attacker.test）",
    "self-signed": "出示一张写着服务器名字、由攻击者签名的证书",
    "own-ca": "用攻击者自己的根 CA 为这个名字签发证书",
    "flip": "翻转一条应用数据记录中的一位",
    "replay": "把一条应用数据记录再发一次",
    "truncate": "传了一些数据后切断连接，不发 close_notify",
}


#: Every other line the proxy prints: key -> (English, Chinese), ``{name}``
#: fields filled in by :func:`say`. Identifiers (message, alert and mode
#: names, hex, HOST:PORT) stay as they are in both languages.
LINES: dict[str, tuple[str, str]] = {
    "connected": ("client connected; mode {mode}", "客户端已连接；模式 {mode}"),
    "closed": ("closed", "连接已关闭"),
    "upstream": (
        "cannot reach the real server at {address}: {reason}",
        "连不上真正的服务器 {address}：{reason}",
    ),
    "plaintext_stream": (
        "{direction}: not toytls — plaintext, readable and changeable",
        "{direction}：不是 toytls，是明文：攻击者能看，也能改",
    ),
    "unparseable": (
        "{direction}: unparseable bytes ({error}); passing them on as they are",
        "{direction}：后面的字节解析不成记录（{error}）；原样转发",
    ),
    "record": ("{direction} {what}", "{direction} {what}"),
    "record_hello": (
        "{kind} ClientHello for {name!r} ({size} bytes, readable)",
        "{kind} ClientHello，要访问 {name!r}（{size} 字节，明文）",
    ),
    "record_message": (
        "{kind} {name} ({size} bytes, readable)",
        "{kind} {name}（{size} 字节，明文）",
    ),
    "record_encrypted": ("{kind} ({size} bytes, encrypted)", "{kind}（{size} 字节，已加密）"),
    "record_alert": ("alert {name} (readable)", "alert {name}（明文）"),
    "record_ciphertext": (
        "{kind}, {size} bytes of ciphertext: {hex}",
        "{kind}，{size} 字节密文：{hex}",
    ),
    "rewrite": ("{direction}: changed it to {text!r}", "{direction}：改成了 {text!r}"),
    "stolen": ("{who} says (decrypted with key X): {text!r}", "{who}说（用密钥X 解密）：{text!r}"),
    "plaintext": ("{direction} plaintext: {text!r}", "{direction} 明文：{text!r}"),
    "not_utf8": (" (not UTF-8; the bytes: {hex})", "（不是 UTF-8；原始字节：{hex}）"),
    "http": ("{who} HTTP {kind}: {first}", "{who}的 HTTP {kind}：{first}"),
    "http_stolen": (
        "{who} HTTP {kind} (decrypted with key X): {first}",
        "{who}的 HTTP {kind}（用密钥X 解密）：{first}",
    ),
    "http_body": ("{who} HTTP {first}", "{who}的 HTTP 正文（{label}）：{size} 字节{preview}"),
    "http_reply_to": ("", "{request} 的响应 {reply}"),
    "refused": (
        "attack failed: the client refused with alert {alert}: {why}",
        "攻击失败：客户端以警报 {alert} 拒绝：{why}",
    ),
    "failure_refused": (
        "the client refused with alert {alert}: {why}",
        "客户端以警报 {alert} 拒绝：{why}",
    ),
    "failure_local": (
        "{detail}",
        "攻击者这一端发现客户端发来的消息不对，发出警报 {alert}：{why}",
    ),
    "failure_silent": ("{detail}", "客户端没有发出警报就断开了连接"),
    "failed": ("attack failed: {reason}.{note}", "攻击失败：{reason}。{note}"),
    "failed_no_key": (" The client never sent key X.", "客户端始终没有发出密钥X。"),
    "server_failed": (
        "the real server ended its connection with the attacker ({why}); the client is dropped",
        "真正的服务器中断了和攻击者之间的连接（{why}）；攻击者也断开了客户端",
    ),
    "server_failed_alert": (
        "it sent alert {alert}: {meaning}",
        "服务器发出警报 {alert}：{meaning}",
    ),
    "server_failed_sent": (
        "the attacker's side sent alert {alert}: {meaning}",
        "攻击者这一端发出警报 {alert}：{meaning}",
    ),
    "server_failed_silent": ("{detail}", "服务器没有发出警报就关闭了连接"),
    "no_hello": (
        "the client did not start with a ClientHello{why}; dropping it",
        "客户端发来的第一条消息不是 ClientHello{why}；断开这条连接",
    ),
    "no_hello_why": (" ({error})", "（开头的字节连 toytls 记录都不是）"),
    "hello": (
        "the client asks for {name!r}; connecting to the real server as that name",
        "客户端要访问 {name!r}；攻击者用这个域名去连接真正的服务器",
    ),
    "forged": ("{description}; presenting it to the client", "{description}"),
    "broke": ("connection broke: {reason}", "连接断了：{reason}"),
    "internal": (
        "internal error: {error}",
        "代理内部出错（这是 toytls 的缺陷，其他连接不受影响）：{error!r}",
    ),
    "nothing_altered": ("{what}", "{what}"),
}

#: Which way bytes went, as the zh lines write it (the en lines keep the
#: value of :class:`~toytls.attacker.outcomes.Direction`).
DIRECTION_ZH: dict[out.Direction, str] = {
    out.Direction.TO_SERVER: "客户端→服务器",
    out.Direction.TO_CLIENT: "服务器→客户端",
}

#: Who said what the attacker read after a successful attack.
WHO: dict[out.Direction, tuple[str, str]] = {
    out.Direction.TO_SERVER: ("client", "客户端"),
    out.Direction.TO_CLIENT: ("server", "服务器"),
}

#: An HTTP head's kind, in Chinese ("request" and "response" in English).
HTTP_KIND_ZH: dict[str, str] = {"request": "请求", "response": "响应"}

#: What the attacker did to a record (all but the rewrite, which quotes its text).
ALTERED: dict[out.Alteration, tuple[str, str]] = {
    out.Alteration.TAMPER_CERTIFICATE: (
        "tampered: changed one letter of the subject's name inside the signed part "
        "of the certificate; the CA's signature is unchanged",
        "篡改：改掉了证书签名部分里主体名称的一个字母；CA 的数字签名原封不动",
    ),
    out.Alteration.FLIP: (
        "flipped one bit of this record's ciphertext",
        "把这条记录的密文翻转了一位",
    ),
    out.Alteration.REPLAY: (
        "sending this record a second time (replay)",
        "把这条记录再发一次（重放）",
    ),
    out.Alteration.TRUNCATE: (
        "forwarding this record, then cutting both connections without close_notify",
        "转发这条记录，然后切断两条连接，不发 close_notify",
    ),
}

#: The chain the attacker shows the client, in Chinese, per man-in-the-middle
#: mode (the English line is the mode's description).
FORGED_ZH: dict[Mode, str] = {
    Mode.SWAP_KEY: "偷梁换柱：留着真证书，把里面服务器的公钥B+ 换成攻击者的公钥 M+，出示给客户端",
    Mode.SWAP_CERT: "证书调包：把攻击者自己的真证书（签发给 attacker.test）出示给客户端",
    Mode.SELF_SIGNED: "出示给客户端一张写着它要访问的域名、由攻击者自己签名的证书",
    Mode.OWN_CA: "用攻击者自己的根 CA 为这个域名签发一张证书，出示给客户端",
}

#: A relay mode's connection ended with nothing to attack: (English, Chinese).
NOTHING_ALTERED: dict[Mode, tuple[str, str]] = {
    Mode.TAMPER_CERT: (
        "outcome: no Certificate went to the client, so there was nothing to tamper "
        "with; everything passed unchanged",
        "结果：没有 Certificate 发往客户端，无从篡改；所有数据都原样转发了",
    ),
    Mode.FLIP: (
        "outcome: no application data went to the client, so there was no bit to flip; "
        "everything passed unchanged",
        "结果：没有应用数据发往客户端，没有可以翻转的位；所有数据都原样转发了",
    ),
    Mode.REPLAY: (
        "outcome: no application data went to the client, so there was no record to "
        "replay; everything passed unchanged",
        "结果：没有应用数据发往客户端，没有可以重放的记录；所有数据都原样转发了",
    ),
    Mode.TRUNCATE: (
        "outcome: no application data went to the client, so the attacker never cut "
        "the connection; everything passed unchanged",
        "结果：没有应用数据发往客户端，攻击者没有切断连接；所有数据都原样转发了",
    ),
}

#: What the man in the middle got once the client accepted: key X and its keys.
SUCCEEDED: tuple[tuple[str, str], tuple[str, str]] = (
    (
        "ATTACK SUCCEEDED: the client accepted {what}, and sent key X locked with "
        "the attacker's public key M+ in it; opened with his private key M−: X = {secret}",
        "攻击成功：客户端接受了{what}，用其中攻击者的公钥 M+ 锁住密钥X 发了出来；"
        "攻击者用自己的私钥 M− 解开：X = {secret}",
    ),
    (
        "the client leg's keys derived from X: client→server {client}, server→client "
        "{server}; every message below is read and re-encrypted, and neither side can tell",
        "客户端这一段由密钥X 派生的密钥：客户端→服务器 {client}，服务器→客户端 {server}；"
        "下面的每条消息都被读出并重新加密，两端都察觉不到",
    ),
)

#: 偷梁换柱 completed: the server took the client's X from the attacker.
PASSED_ON: tuple[tuple[str, str], tuple[str, str]] = (
    (
        "偷梁换柱 complete: the attacker locked the same key X with the server's real "
        "B+ and passed it on; the server's X equals the client's X (fingerprint {fingerprint})",
        "偷梁换柱完成：攻击者把同一个密钥X 用服务器真正的公钥B+ 加密后转交给了服务器；"
        "服务器的 X 与客户端的 X 相同（指纹 {fingerprint}）",
    ),
    (
        "yet the two legs' record keys differ (client leg {client}, server leg {server}): "
        "the key schedule mixes in the transcript, and the two transcripts differ in the "
        "Certificate and the ClientKeyExchange; holding X, the attacker derives both and "
        "re-encrypts every record",
        "但两段连接的记录密钥不同（客户端这一段 {client}，服务器这一段 {server}）："
        "密钥派生时混入了握手记录，而两段看到的 Certificate 和 ClientKeyExchange 不一样；"
        "攻击者握有密钥X，两套密钥都能算出，所以他逐条解密再重新加密",
    ),
)

#: Why a socket call failed, in Chinese, by errno (other errors keep the
#: system's own words, quoted).
OS_REASONS_ZH: dict[int, str] = {
    errno.ECONNREFUSED: "连接被拒绝（那里没有程序在监听）",
    errno.ECONNRESET: "连接被对方重置",
    errno.EPIPE: "对方已经关闭了连接",
    errno.ETIMEDOUT: "连接超时",
    errno.ENETUNREACH: "网络不可达",
    errno.EHOSTUNREACH: "主机不可达",
    errno.ENOENT: "没有这个文件或目录",
    errno.EISDIR: "这是一个目录",
    errno.ENOTDIR: "路径中有一段不是目录",
    errno.EACCES: "没有权限",
    errno.EROFS: "文件系统是只读的",
    errno.EADDRINUSE: "地址已被占用",
    errno.EADDRNOTAVAIL: "本机没有这个地址",
}

#: Where the proxy's -vv narration of each leg comes from, as its lines' tag.
LEG: dict[str, tuple[str, str]] = {
    "proxy-client": ("proxy-client", "面向客户端"),
    "proxy-upstream": ("proxy-upstream", "面向服务器"),
}

#: The proxy's own error lines before it listens: (English, Chinese).
ERRORS: dict[str, tuple[str, str]] = {
    "address": (
        "{what} must look like HOST:PORT or [IPv6]:PORT (for example 127.0.0.1:4433), not {text!r}",
        "{what} 应写成 HOST:PORT 或 [IPv6]:PORT（例如 127.0.0.1:4433），而不是 {text!r}",
    ),
    "rewrite": (
        "--rewrite takes OLD=NEW, not {rule!r}",
        "--rewrite 要写成 OLD=NEW，而不是 {rule!r}",
    ),
    "kit_missing": (
        "{path} not found — run `toytls certs` first",
        "找不到 {path}：攻击者的密钥和证书要先用 `toytls certs` 生成",
    ),
    "kit_bad": (
        "{error}",
        "{directory} 里攻击者的密钥和证书读不出来，文件内容不对"
        "（可以用 `toytls certs --force` 重新生成）",
    ),
    "file": ("{path}: {reason}", "{path}：{reason}"),
}


def say(key: str, lang: str, **values: object) -> str:
    """The line ``key`` of :data:`LINES` in ``lang``, its fields filled in."""
    return LINES[key][lang == "zh"].format(**values)
