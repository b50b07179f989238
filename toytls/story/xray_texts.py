"""Every label of the certificate x-ray, in English and Chinese, side by side.

Each entry is ``(english, chinese)``; ``{name}`` fields are filled in by
:mod:`toytls.story.xray_render`. The Chinese uses the article's terms
(数字证书, 数字签名, 公钥A+/B+, 私钥A−, 摘要T/S, 明文数据).
"""

from __future__ import annotations

TEXT: dict[str, tuple[str, str]] = {
    "title": ("certificate {index}: {subject}", "第 {index} 张数字证书：{subject}"),
    "holder": ("holder (subject)", "持有者（subject）"),
    "alt_names": ("alternative names", "备用名称（SAN）"),
    "none": ("none", "无"),
    "issuer": ("issuer", "签发者（issuer）"),
    "validity": ("valid", "有效期"),
    "is_ca": ("a CA?", "是 CA 吗"),
    "yes": ("yes", "是"),
    "no": ("no", "否"),
    "key_usage": ("key usage", "密钥用途"),
    "key_B+": (
        "public key B+ (the server's: the client will lock key X with it)",
        "公钥B+（服务器的：客户端会用它加密密钥X）",
    ),
    "key_A+": (
        "public key A+ (a CA's: it opens the signatures this CA made with A−)",
        "公钥A+（CA 的：用它解开这个 CA 用私钥A− 做的数字签名）",
    ),
    "key_rsa": ("RSA, {size} bits, exponent e = {e}", "RSA，{size} 位，指数 e = {e}"),
    "key_other": ("{kind}, {size} bits{curve}", "{kind}，{size} 位{curve}"),
    "modulus": ("modulus n ({n} bytes):", "模数 n（{n} 字节）："),
    "algorithm": ("signature algorithm", "签名算法"),
    "signature": (
        "digital signature ({n} bytes, made with the issuer's private key A−):",
        "数字签名（{n} 字节，由签发者用私钥A− 做出）：",
    ),
    "source_next": ("the next certificate in the file", "文件里的下一张证书"),
    "source_given": ("the --issuer certificate", "--issuer 给出的证书"),
    "source_self": ("itself: it is self-signed", "它自己：这是自签名证书"),
    "source_chain": ("the next certificate of the chain", "证书链里的上一级证书"),
    "source_trusted": ("a root in the trust store", "信任库里的根证书"),
    "opened": (
        "the signature opened with A+ of {issuer} ({source}):",
        "用 {issuer} 的公钥A+ 解开数字签名（{source}）：",
    ),
    "pow": ("pow(signature, e, n) =", "pow(数字签名, e, n) ="),
    "part_lead": ("00 01: a PKCS#1 v1.5 signature block", "00 01：PKCS#1 v1.5 签名块的开头"),
    "part_padding": ("padding: {n} bytes of ff", "填充：{n} 个 ff 字节"),
    "part_separator": ("00: end of the padding", "00：填充到此结束"),
    "part_info": (
        "DigestInfo: DER that names the hash, {hash}",
        "DigestInfo：一段 DER，写明摘要算法是 {hash}",
    ),
    "part_t": (
        "T: the digest the CA signed, recovered here",
        "摘要T：CA 签名时的摘要，在这里还原出来",
    ),
    "malformed": (
        "not a PKCS#1 v1.5 block: this key did not make this signature (no T)",
        "不是 PKCS#1 v1.5 签名块：这个数字签名不是用这把密钥做的（得不到摘要T）",
    ),
    "digest_s": (
        "S = {hash}(tbsCertificate), the signed content, computed here:",
        "摘要S = {hash}(tbsCertificate)，对证书明文数据算出：",
    ),
    "digest_t": ("T, recovered from the signature:", "摘要T，从数字签名还原："),
    "t_equals_s": (
        "→ T = S: the content is exactly what the CA signed",
        "→ T = S：证书内容和 CA 签名时一模一样",
    ),
    "t_not_s": (
        "→ T ≠ S: the content is not what this key signed",
        "→ T ≠ S：证书内容和这把公钥签过的不一样",
    ),
    "no_issuer": (
        "the signature cannot be opened: the issuer's certificate ({issuer}) was not given "
        "(use --issuer ISSUER.pem)",
        "无法解开数字签名：没有给出签发者（{issuer}）的证书（用 --issuer ISSUER.pem）",
    ),
    "not_rsa_signature": (
        "the signature cannot be opened: {algorithm} is not an RSA PKCS#1 v1.5 signature "
        "(ECDSA, EdDSA and PSS are verified, not recovered: there is no T to show)",
        "无法解开数字签名：{algorithm} 不是 RSA PKCS#1 v1.5 签名"
        "（ECDSA、EdDSA 和 PSS 只能验证，不能还原，所以没有摘要T 可看）",
    ),
    "issuer_key_not_rsa": (
        "the signature cannot be opened: the issuer's key is not RSA",
        "无法解开数字签名：签发者的公钥不是 RSA",
    ),
    "verdict_ok": (
        "cryptography's verdict (verify_directly_issued_by): the signature is valid",
        "cryptography 的结论（verify_directly_issued_by）：数字签名有效",
    ),
    "verdict_bad": (
        "cryptography's verdict (verify_directly_issued_by): refused: {why}",
        "cryptography 的结论（verify_directly_issued_by）：不通过，它的原话是：“{why}”",
    ),
    "fingerprint": ("SHA-256 fingerprint", "SHA-256 指纹"),
}
