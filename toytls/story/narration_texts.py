"""Every sentence the narrator says, in English and Chinese, side by side.

Kept apart from :mod:`toytls.story.narration` so that the code reads as the steps
it follows and the two languages stay together. Each entry is
``(english, chinese)``; ``{name}`` fields are filled in by the narrator.
The Chinese uses the article's terms; the sentences are our own.
"""

from __future__ import annotations

from ..core.constants import AlertDescription

#: Continuation lines under a step line.
INDENT = "      "

#: Every sentence the narrator says, as ``key: (English, Chinese)`` templates.
TEXT: dict[str, tuple[str, str]] = {
    "client": ("client", "客户端"),
    "server": ("server", "服务器"),
    "proxy": ("attacker", "攻击者"),
    "hello_sent": (
        "[1/6] the {me} asks for a secure talk: ClientHello for {name!r}",
        "[1/6] {me}发起请求：ClientHello，要访问 {name!r}",
    ),
    "hello_received": (
        "[1/6] the {me} is asked for a secure talk: ClientHello for {name!r}",
        "[1/6] {me}收到{peer}的请求：ClientHello，要访问 {name!r}",
    ),
    "server_hello_sent": (
        "[2/6] the {me} answers with ServerHello (a fresh random of its own)",
        "[2/6] {me}回应 ServerHello（附上自己新生成的随机数）",
    ),
    "server_hello_received": (
        "[2/6] the {me} gets the {peer}'s answer: ServerHello",
        "[2/6] {me}收到{peer}的回应：ServerHello",
    ),
    "certificate_sent": (
        "[2/6] the {me} sends its digital certificate chain ({names}); "
        "the first certificate carries its public key {pub}",
        "[2/6] {me}发送数字证书链（{names}）；第一张数字证书里装着它的公钥{pub}",
    ),
    "certificate_received": (
        "[2/6] the {me} receives the {peer}'s digital certificate chain ({names}); "
        "the first certificate carries the public key B+, not to be used before it is checked",
        "[2/6] {me}收到{peer}的数字证书链（{names}）；第一张数字证书里装着公钥B+，验证之前不能用",
    ),
    "peer_may_check": (
        "[3/6] a {peer} that verifies checks this chain: digest T, recovered from each digital "
        "signature with the issuer's public key A+, must equal digest S of the content "
        "(the {me} cannot see whether its {peer} does)",
        "[3/6] 会做验证的{peer}会检查这条证书链：用签发者的公钥A+ 从数字签名中还原出的摘要T，"
        "必须等于证书内容的摘要S（{peer}到底有没有检查，{me}看不到）",
    ),
    "link": (
        "[3/6] the {me} checks certificate {index} ({kind}): {subject}",
        "[3/6] {me}验证第 {index} 张证书（{kind}）：{subject}",
    ),
    "kind_leaf": ("the server's own, holding B+", "服务器的数字证书，装着公钥B+"),
    "kind_root": ("a self-signed root certificate", "自签名的根证书"),
    "kind_intermediate": ("an intermediate certificate", "中间证书"),
    "kind_store_root": (
        "a root certificate from the {me}'s own trust store: its A+ was built in",
        "{me}自带的根证书：它的公钥A+ 是预先装好的",
    ),
    "kind_hand_root": (
        "a root certificate added to the {me}'s trust store by hand (--trust)",
        "用 --trust 手动加进{me}信任库的根证书",
    ),
    "anchor_store": (
        INDENT + "→ trusted because it is in the {me}'s trust store, not because of its "
        "self-signature: the chain ends here",
        INDENT + "→ 它受信任，是因为它就在{me}的信任库里，而不是因为它的自签名：证书链到此为止",
    ),
    "anchor_hand": (
        INDENT + "→ trusted only because someone added it by hand (--trust), "
        "not because of its self-signature: the chain ends here",
        INDENT + "→ 它受信任，只是因为有人用 --trust 手动把它加了进来，而不是因为它的自签名："
        "证书链到此为止",
    ),
    "issued_by": (INDENT + "issued by {issuer}", INDENT + "签发者：{issuer}"),
    "digest_s": (
        INDENT + "S = {s}  (SHA-256 of the certificate's signed content, computed here)",
        INDENT + "摘要S = {s}（对证书明文数据做 SHA-256，由{me}自己算出）",
    ),
    "digest_t": (
        INDENT + "T = {t}  (recovered from the digital signature with {ca}'s public key A+)",
        INDENT + "摘要T = {t}（用 {ca} 的公钥A+ 解开数字签名得到）",
    ),
    "digest_t_no_key": (
        INDENT + "T = —  (cannot be recovered: the {me} holds no public key A+ of {ca})",
        INDENT + "摘要T = —（无法还原：{me}手里没有 {ca} 的公钥A+）",
    ),
    "t_equals_s_self": (
        INDENT + "→ T = S: it signed itself; that shows only that it is intact, not who it "
        "belongs to (a root is trusted only if it is in the trust store)",
        INDENT + "→ T = S：这是它给自己签的名，只能说明它没被改过，说明不了它属于谁"
        "（根证书只有在信任库里才受信任）",
    ),
    "t_equals_s": (
        INDENT + "→ T = S: the signature matches, nothing changed since the CA signed it",
        INDENT + "→ T = S：数字签名吻合，签名之后证书没有被改动过",
    ),
    "t_not_s": (
        INDENT + "→ T ≠ S: the content no longer matches its signature: "
        "it was changed after signing (偷梁换柱?)",
        INDENT + "→ T ≠ S：证书内容和数字签名对不上，签名之后被改动过（偷梁换柱？）",
    ),
    "t_unrecoverable": (
        INDENT + "→ T cannot be recovered with the issuer's key: it did not make this signature",
        INDENT + "→ 用签发者的公钥还原不出摘要T：这份数字签名不是它签的",
    ),
    "t_but_invalid": (
        INDENT + "→ T = S, but the issuer does not match: the signature is not valid",
        INDENT + "→ T = S，但签发者对不上：数字签名无效",
    ),
    "issuer_unknown": (
        INDENT + "→ issuer unknown: no trusted public key A+ to check the signature with",
        INDENT + "→ 找不到签发者：没有可信的公钥A+ 可以验证这份数字签名",
    ),
    "chain_ok": (
        "[3/6] verdict: ACCEPTED; the chain of trust holds ({path}) and the certificate "
        "is for {name!r}, so B+ really is the {peer}'s key",
        "[3/6] 结论：通过；信任链成立（{path}），证书上的域名正是 {name!r}，公钥B+ 确实属于{peer}",
    ),
    "chain_ok_hand": (
        "[3/6] verdict: ACCEPTED; the chain holds ({path}) up to {root}, a root added to the "
        "trust store by hand (--trust), not a built-in one; the certificate is for {name!r}, "
        "so B+ belongs to whoever {root} vouches for under that name",
        "[3/6] 结论：通过；信任链成立（{path}），一直通到 {root}：这是用 --trust 手动加入信任库的"
        "根证书，不是预先装好的；证书上的域名是 {name!r}，所以公钥B+ 属于 {root} 以这个域名"
        "担保的那一方",
    ),
    "chain_rejected": (
        "[3/6] verdict: REJECTED with alert {alert}: {reason}; key X is never made, "
        "nothing is sent to the key in that certificate",
        "[3/6] 结论：拒绝（警报 {alert}）：{reason}；密钥X 不会生成，也不会发给证书里的公钥",
    ),
    "skipped": (
        "[3/6] WARNING: the certificate is NOT checked (--insecure): B+ belongs to whoever "
        "sent this certificate, the server or a man in the middle",
        "[3/6] 警告：没有验证数字证书（--insecure）：公钥B+ 属于发来这张证书的一方，"
        "可能是服务器，也可能是中间人",
    ),
    "skipped_relay": (
        "[3/6] the {me} does not check the real server's chain: whatever it holds, he locks "
        "the client's key X with the B+ in it",
        "[3/6] {me}不检查真服务器发来的证书链：不管里面是什么，"
        "他都用其中的公钥B+ 锁住客户端的密钥X",
    ),
    "cke_sent_relay": (
        "[4/6] the {me} makes no key X of his own: he locks the client's X, opened with M−, "
        "with the public key B+ in this certificate and sends it on: ClientKeyExchange",
        "[4/6] {me}没有自己生成密钥X：他把用私钥M− 解出的客户端的密钥X，用这张证书里的"
        "公钥B+ 加密后转发出去：ClientKeyExchange",
    ),
    "cke_sent": (
        "[4/6] the {me} makes a fresh session key X (32 random bytes), locks it with "
        "the public key B+ and sends it: ClientKeyExchange",
        "[4/6] {me}在本地生成会话密钥X（32 个随机字节），用公钥B+ 加密后发出：ClientKeyExchange",
    ),
    "cke_sent_unchecked": (
        "[4/6] the {me} makes a fresh session key X (32 random bytes), locks it with the "
        "public key B+ of whoever sent this certificate and sends it: ClientKeyExchange",
        "[4/6] {me}在本地生成会话密钥X（32 个随机字节），用发来这张证书的一方的公钥B+ 加密后"
        "发出：ClientKeyExchange",
    ),
    "cke_sent_hand": (
        "[4/6] the {me} makes a fresh session key X (32 random bytes), locks it with the "
        "public key B+ that {root} vouches for and sends it: ClientKeyExchange",
        "[4/6] {me}在本地生成会话密钥X（32 个随机字节），用 {root} 担保的公钥B+ 加密后"
        "发出：ClientKeyExchange",
    ),
    "cke_received": (
        "[4/6] the {me} receives ClientKeyExchange: key X, locked with its public key {pub}",
        "[4/6] {me}收到 ClientKeyExchange：用公钥{pub} 加密过的密钥X",
    ),
    "keys_client": (
        "[4/6] the {me} turns key X into two AES-128-GCM keys, one per direction (HKDF)",
        "[4/6] {me}用密钥X 派生出两个方向各一把 AES-128-GCM 密钥（HKDF）",
    ),
    "peer_unlocks": (
        "[5/6] only the {peer} can unlock X: that takes its private key B−, which never leaves it",
        "[5/6] 只有{peer}能解开密钥X：这需要它的私钥B−，而私钥B− 从不离开{peer}",
    ),
    "peer_unlocks_unchecked": (
        "[5/6] only the holder of the private key that matches this B+ can unlock X: "
        "whoever sent this certificate, the server or a man in the middle",
        "[5/6] 只有持有与这个公钥B+ 配对的私钥的一方才能解开密钥X：也就是发来这张证书的一方，"
        "可能是服务器，也可能是中间人",
    ),
    "peer_unlocks_hand": (
        "[5/6] only the holder of the private key that matches this B+ can unlock X: "
        "whoever {root} (added by hand) issued the certificate to",
        "[5/6] 只有持有与这个公钥B+ 配对的私钥的一方才能解开密钥X：也就是 {root}"
        "（手动加入的根证书）为之签发证书的那一方",
    ),
    "keys_server": (
        "[5/6] the {me} unlocks key X with its private key {priv} and derives its "
        "AES-128-GCM keys from it",
        "[5/6] {me}用私钥{priv} 解密，拿到密钥X，并由它派生出 AES-128-GCM 密钥",
    ),
    "finished_sent": (
        "[6/6] the {me} sends {{Finished}}, its first message encrypted with keys from X: "
        "a MAC over the whole handshake",
        "[6/6] {me}发送 {{Finished}}：第一条用密钥X 加密的消息，是整个握手过程的校验码",
    ),
    "finished_received": (
        "[6/6] the {me} checks the {peer}'s {{Finished}}: it decrypts and matches, so both "
        "hold the same key X and saw the same handshake",
        "[6/6] {me}验证{peer}的 {{Finished}}：解密成功、校验码一致，"
        "双方持有同一个密钥X，看到的握手过程也一样",
    ),
    "finished_received_server": (
        "[6/6] the {me} checks the {{Finished}} it received: it decrypts and matches, so "
        "whoever is at the other end of this connection holds the same key X and saw the same "
        "handshake (the {me} cannot tell whether that is the {peer} itself)",
        "[6/6] {me}验证收到的 {{Finished}}：解密成功、校验码一致，说明这条连接另一端的一方"
        "持有同一个密钥X，看到的握手过程也一样（{me}分辨不出那是不是{peer}本人）",
    ),
    "finished_received_unchecked": (
        "[6/6] the {me} checks the {{Finished}} it received: it decrypts and matches, so "
        "whoever sent this certificate holds the same key X and saw the same handshake",
        "[6/6] {me}验证收到的 {{Finished}}：解密成功、校验码一致，说明发来这张证书的一方"
        "持有同一个密钥X，看到的握手过程也一样",
    ),
    "finished_received_hand": (
        "[6/6] the {me} checks the {{Finished}} it received: it decrypts and matches, so "
        "the holder of the key {root} vouched for holds the same key X and saw the same "
        "handshake",
        "[6/6] {me}验证收到的 {{Finished}}：解密成功、校验码一致，说明 {root} 所担保的公钥的"
        "持有者持有同一个密钥X，看到的握手过程也一样",
    ),
    "complete_server": (
        "[6/6] handshake complete: the {me} and whoever is at the other end of this "
        "connection hold key X (fingerprint {fp}); from now on everything is encrypted "
        "with keys from it",
        "[6/6] 握手完成：{me}和这条连接另一端的一方持有密钥X（指纹 {fp}），"
        "此后的通信都用它派生的密钥加密",
    ),
    "complete_unchecked": (
        "[6/6] handshake complete: the {me} and whoever sent this certificate hold key X "
        "(fingerprint {fp}); from now on everything is encrypted with keys from it",
        "[6/6] 握手完成：{me}和发来这张证书的一方持有密钥X（指纹 {fp}），"
        "此后的通信都用它派生的密钥加密",
    ),
    "complete_hand": (
        "[6/6] handshake complete: the {me} and the holder of the key {root} vouched for "
        "hold key X (fingerprint {fp}); from now on everything is encrypted with keys from it",
        "[6/6] 握手完成：{me}和 {root} 所担保的公钥的持有者持有密钥X（指纹 {fp}），"
        "此后的通信都用它派生的密钥加密",
    ),
    "complete": (
        "[6/6] handshake complete: both sides hold the same key X (fingerprint {fp}); "
        "from now on everything is encrypted with keys from it",
        "[6/6] 握手完成：双方持有同一个密钥X（指纹 {fp}），此后的通信都用它派生的密钥加密",
    ),
    "data_received": (
        "[6/6] the {me} receives {n} bytes of application data, decrypted with keys from X",
        "[6/6] {me}收到 {n} 字节应用数据，已用密钥X 派生的密钥解密",
    ),
    "data_sent": (
        "[6/6] the {me} sends {n} bytes of application data, encrypted with keys from X",
        "[6/6] {me}发送 {n} 字节应用数据，已用密钥X 派生的密钥加密",
    ),
    "record_sent": ("      record sent: {kind}", "      发出记录：{kind}"),
    "record_received": ("      record received: {kind}", "      收到记录：{kind}"),
    "record_plain": (
        "{type} ({code}), {n} bytes, unprotected",
        "{type} ({code})，{n} 字节，明文",
    ),
    "record_protected": (
        "{type} ({code}), {n} bytes, protected: seq {seq}, nonce {nonce}",
        "{type} ({code})，{n} 字节，已加密：seq {seq}，nonce {nonce}",
    ),
    "alert_sent": (
        "      alert sent: {alert} ({level}): {meaning}",
        "      发出警报：{alert}（{level}）：{meaning}",
    ),
    "alert_sent_bare": (
        "      alert sent: {alert} (fatal)",
        "      发出警报：{alert}（致命）",
    ),
    "alert_received": (
        "      alert received: {alert} ({level}): {meaning}",
        "      收到警报：{alert}（{level}）：{meaning}",
    ),
    "close_sent": (
        "      close: the {me} has finished sending (close_notify)",
        "      关闭：{me}已发送完毕（close_notify）",
    ),
    "close_received": (
        "      close: the {peer} has finished sending (close_notify), a clean end of its data",
        "      关闭：{peer}已发送完毕（close_notify），数据完整结束",
    ),
    "session_details": (
        INDENT + "{protocol}, {cipher}, server_name = {name!r}, verified = {verified}",
        INDENT + "协议 {protocol}，加密 {cipher}，server_name = {name!r}，{checked}",
    ),
    "checked": ("the chain was checked", "证书链已验证"),
    "unchecked": ("the chain was not checked", "证书链未经验证"),
    "fingerprint": (
        INDENT + "certificate {index} sha256 = {fp}…",
        INDENT + "第 {index} 张证书的 SHA-256 指纹 = {fp}…",
    ),
    "not_a_certificate": ("not a certificate", "不是数字证书"),
    "data_preview": (INDENT + "data = “{text}” ({hex})", INDENT + "data = “{text}”（{hex}）"),
    "hex_cut": ("{hex} … {n} bytes in all", "{hex} …，共 {n} 字节"),
    "failed": ("      connection failed: {why}", "      连接失败：{why}"),
    "failed_by_peer": (
        "      connection failed: the {peer} ended it with alert {alert}",
        "      连接失败：{peer}以警报 {alert} 结束了连接",
    ),
}

#: What a close_notify means when it ends the connection as a failure: sent
#: at level fatal (2), or before the handshake was done.
CLOSE_NOTIFY_AS_FAILURE: tuple[str, str] = (
    "close_notify, but as a failure (at level fatal, or before the handshake was done): "
    "not an orderly close; the connection ended in error",
    "close_notify，但属于失败（致命级别，或在握手完成之前）：这不是正常有序的关闭，连接以出错结束",
)

#: What each alert code of §5 means for a person: ``code: (English, Chinese)``.
ALERT_MEANINGS: dict[int, tuple[str, str]] = {
    AlertDescription.CLOSE_NOTIFY: (
        "the sender has finished sending; an orderly close, nothing went wrong",
        "发送方已经发送完毕；这是正常有序的关闭，没有出错",
    ),
    AlertDescription.UNEXPECTED_MESSAGE: (
        "a record or message arrived that the protocol does not allow at this point",
        "收到了协议在这一步不允许出现的记录或消息",
    ),
    AlertDescription.BAD_RECORD_MAC: (
        "an encrypted record did not decrypt: it was changed or replayed on the way, "
        "or the two sides derived different keys (another key X, or a handshake that "
        "differs between them)",
        "加密记录解密失败：它在路上被篡改或重放，或者双方派生出的密钥不同"
        "（密钥X 不同，或者双方看到的握手过程不一样）",
    ),
    AlertDescription.RECORD_OVERFLOW: (
        "a record header announced more bytes than a record may carry",
        "记录头声明的长度超过了一条记录允许的上限",
    ),
    AlertDescription.BAD_CERTIFICATE: (
        "the certificate failed a check: its signature does not match its content "
        "(T ≠ S), it is for another name, or it breaks the certificate rules",
        "数字证书没有通过检查：数字签名和内容对不上（T ≠ S）、域名不符，或者违反证书规范",
    ),
    AlertDescription.CERTIFICATE_EXPIRED: (
        "a certificate on the chain is outside its validity period (expired or not yet valid)",
        "证书链上有证书不在有效期内（已过期或尚未生效）",
    ),
    AlertDescription.ILLEGAL_PARAMETER: (
        "a field held a value that is not allowed, such as a bad character in the server name",
        "某个字段的取值不被允许，例如服务器名里有非法字符",
    ),
    AlertDescription.UNKNOWN_CA: (
        "the chain does not lead to a root certificate the client trusts, "
        "so no one it knows vouches for the key B+",
        "证书链通向的不是客户端信任的根证书，没有可信的 CA 为公钥B+ 担保",
    ),
    AlertDescription.DECODE_ERROR: (
        "a message or alert was malformed: its bytes do not parse as what they claim to be",
        "消息或警报格式错误：字节无法按声明的结构解析",
    ),
    AlertDescription.DECRYPT_ERROR: (
        "the Finished check failed: the peer holds other keys or saw a different handshake",
        "Finished 校验失败：对方持有的密钥不同，或者看到的握手过程不一样",
    ),
    AlertDescription.PROTOCOL_VERSION: (
        "the record's version is not toytls/1",
        "记录的版本号不是 toytls/1",
    ),
    AlertDescription.INTERNAL_ERROR: (
        "the sender hit a failure of its own, not caused by its peer",
        "发送方自己出了故障，与对方无关",
    ),
    AlertDescription.UNRECOGNIZED_NAME: (
        "the server does not serve the name the client asked for",
        "服务器不提供客户端所请求的域名",
    ),
}
