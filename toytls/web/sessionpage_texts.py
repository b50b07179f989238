"""The session page's sentences, in English and Chinese.

Kept apart from :mod:`toytls.web.sessionpage` like the narration's sentences:
one place to read and correct each language. The page's terms are the
article's: public key B+, private key B−, the root's key A+, key X, and
digests T and S. Placeholders in braces are filled (and HTML-escaped) by
the page.
"""

from __future__ import annotations

PAGE_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "toytls: your connection",
        "heading": "Your connection to this page",
        "other_language": "中文",
        "plain": (
            "This page came over plain TCP: no encryption, no certificate. Anyone on the "
            "path read your request exactly as you see it below, and could have changed "
            "this page."
        ),
        "protected": "Protected by {protocol} with {cipher}. Your client asked for {name}.",
        "chain_heading": "1. The certificate chain the server sent",
        "chain": (
            "Certificate 0 holds the server's public key B+. Each one is signed by the "
            "next; the last is signed by a root whose key A+ a verifying client already "
            "holds. A client that verifies checks every signature (digest T must equal S) "
            "before it sends anything secret; the server cannot see whether yours did, nor "
            "whether this is the chain your client received."
        ),
        "col_subject": "subject",
        "col_issuer": "issued by",
        "col_until": "valid until",
        "key_heading": "2. Key X",
        "key": (
            "The server received key X encrypted with its public key B+ and unlocked it with "
            "its private key B−; the AES keys of this connection come from it. Whoever sent "
            "it chose X: your client, or a man in the middle who opened it with his own "
            "private key M− and passed it on. Its fingerprint (never the key itself):"
        ),
        "compare": (
            "Compare it with the fingerprint your own client shows. If they differ, your "
            "client and this server each share a key X with someone else — a man in the "
            "middle who decrypts and re-encrypts everything. If they are equal, that alone "
            "proves nothing: an attacker who opened X can pass the same X on (偷梁换柱); "
            "only a client that checked the certificate chain rules him out."
        ),
        "protected_heading": "3. Protected so far",
        "protected_counts": (
            "{c2s} records from you to the server and {s2c} from the server to you have "
            "been encrypted with keys from X (the Finished messages included; this page is "
            "not counted yet)."
        ),
        "saw_heading": "4. What an attacker on the wire saw",
        "saw": (
            "The first data record you sent on this connection, byte for byte as it crossed "
            "the network (a 5-byte header, the ciphertext, a 16-byte tag):"
        ),
        "none_yet": "(none yet)",
        "read": "What the server read from it, after decrypting with the key from X:",
        "wire_heading": "On the wire so far",
        "diagram_heading": "Your handshake, as the server saw it",
        "diagram": (
            "Every record of your connection so far, drawn from the server's own events: "
            "what it received from you and what it sent. What your client checked (digests "
            "T and S, the chain) is not drawn: the server cannot see it."
        ),
        "col_direction": "direction",
        "col_bytes": "bytes",
        "col_records": "records",
        "you_to_server": "you → server",
        "server_to_you": "server → you",
        "bytes": "{n} bytes",
        "not_records": "(not toytls records)",
        "real_tls_heading": "Real TLS today",
        "real_tls": (
            "toytls/1 is the article's design, not today's TLS. TLS 1.3 removed RSA key "
            "transport: the keys come from fresh (EC)DHE key shares, and the server's private "
            "key only signs the handshake (CertificateVerify). So a stolen private key does not "
            "open old recordings (forward secrecy); in toytls/1 it does (demo scenario 14). "
            "Recovering digest T from a signature works only for RSA PKCS#1 v1.5: an ECDSA "
            "signature is verified, not opened."
        ),
        "json": "The same data as JSON: {link}.",
    },
    "zh": {
        "title": "toytls：你的这条连接",
        "heading": "你和这个页面之间的连接",
        "other_language": "English",
        "plain": (
            "这个页面是通过明文 TCP 传来的：没有加密，也没有证书。路上的任何人都能原样读到"
            "你的请求（就是下面这些），还能改掉这个页面。"
        ),
        "protected": "受 {protocol}（{cipher}）保护。你的客户端要找的服务器名是 {name}。",
        "chain_heading": "1. 服务器发来的证书链",
        "chain": (
            "第 0 张证书里装着服务器的公钥 B+。每一张都由下一张证书的主人签名；最后一张由"
            "一个根证书签名，做验证的客户端早已存有它的公钥 A+。做验证的客户端在发出任何秘密"
            "之前，会逐一检查这些数字签名（摘要 T 必须等于摘要 S）；服务器看不到你的客户端"
            "有没有这样做，也看不到你的客户端收到的是不是这条证书链。"
        ),
        "col_subject": "主体",
        "col_issuer": "签发者",
        "col_until": "有效期至",
        "key_heading": "2. 密钥X",
        "key": (
            "服务器收到了用它的公钥 B+ 加密的密钥X，并用私钥 B− 解开；这条连接的 AES 密钥"
            "都由它推导而来。密钥X 是发送方选的：可能是你的客户端，也可能是中间人——他用自己"
            "的私钥 M− 解开了 X，再转交过来。下面是它的指纹（不是密钥本身）："
        ),
        "compare": (
            "把它和你自己的客户端显示的指纹对一对。如果不同，说明你的客户端和这个服务器各自"
            "与别人共享了一个密钥X：中间有人在解密、再加密所有内容。即使相同，也证明不了什么："
            "解开了 X 的攻击者可以把同一个 X 转交下去（偷梁换柱）；只有检查过证书链的客户端"
            "才能排除他。"
        ),
        "protected_heading": "3. 到目前为止加密过的记录",
        "protected_counts": (
            "从你到服务器已有 {c2s} 条记录、从服务器到你已有 {s2c} 条记录，用由 X 推导出的"
            "密钥加了密（包括 Finished 消息；这个页面本身还没算进去）。"
        ),
        "saw_heading": "4. 线路上的攻击者看到了什么",
        "saw": (
            "你在这条连接上发出的第一条数据记录，和它在网络上传输时一模一样（5 字节的记录"
            "头、密文、16 字节的认证标签）："
        ),
        "none_yet": "（还没有）",
        "read": "服务器用由 X 推导出的密钥解密后，从中读到的内容：",
        "wire_heading": "到目前为止线路上的情况",
        "diagram_heading": "服务器眼中的你的握手",
        "diagram": (
            "你这条连接到目前为止的每一条记录，按服务器自己的事件画出：它从你这里收到了什么、"
            "发出了什么。你的客户端检查了什么（摘要T 和 S、信任链）没有画出来：服务器看不到。"
        ),
        "col_direction": "方向",
        "col_bytes": "字节",
        "col_records": "记录",
        "you_to_server": "你 → 服务器",
        "server_to_you": "服务器 → 你",
        "bytes": "{n} 字节",
        "not_records": "（不是 toytls 记录）",
        "real_tls_heading": "今天真正的 TLS",
        "real_tls": (
            "toytls/1 是文章里的设计，不是今天的 TLS。TLS 1.3 取消了 RSA 密钥传输：密钥由每次"
            "新生成的 (EC)DHE 密钥交换算出，服务器的私钥只给握手签名（CertificateVerify）。"
            "所以私钥被偷也解不开旧录音（前向安全）；toytls/1 却解得开（demo 场景 14）。"
            "“从数字签名解出摘要T”只适用于 RSA PKCS#1 v1.5：ECDSA 签名只能验证，解不出摘要。"
        ),
        "json": "同样的数据也有 JSON 版：{link}。",
    },
}
