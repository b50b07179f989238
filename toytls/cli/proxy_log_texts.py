"""The proxy's outcome sentences that name a cause, in English and Chinese.

Kept apart from :mod:`toytls.cli.proxy_log` like the narration's sentences:
each entry is ``(English, Chinese)``. What the attacker says is only what he
did and what he saw; what the client checked he can tell only from what it
sent back.
"""

from __future__ import annotations

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
        "把公钥B+ 换成了攻击者 M+ 的真证书（它与 CA 的数字签名已经对不上，做检查的客户端会拒绝）",
    ),
    Mode.SWAP_CERT: (
        "the attacker's own certificate: genuine, issued by the same CA, but to "
        "attacker.test, not to the name it asked for",
        "攻击者自己的证书：是真的，由同一个 CA 签发，但签发给的是 attacker.test，"
        "不是它要访问的域名",
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
        "需要由 X 派生的密钥，攻击者没有；{seen}。攻击者能打断连接，却改不了内容而不被察觉",
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
