"""The notes of the annotated byte dump (:mod:`toytls.story.hexdump`), in English and Chinese.

Each entry is ``(english, chinese)``; ``{name}`` fields are filled in by the
dump. Field names of the protocol (``content_type``, ``server_name``,
``cert_data[0]``…) stay as they are in both languages.
"""

from __future__ import annotations

HEXDUMP_TEXT: dict[str, tuple[str, str]] = {
    "malformed": ("(malformed) {problem}", "（格式错误）{problem}"),
    "needs": (
        "{what}: needs {size} bytes, {left} left",
        "{what}：需要 {size} 字节，只剩 {left} 字节",
    ),
    "value": ("{name} = {value}", "{name} = {value}"),
    "value_note": ("{name} = {value} ({note})", "{name} = {value}（{note}）"),
    "sized": ("{name} ({size} bytes)", "{name}（{size} 字节）"),
    "length_of": ("{name} length", "{name} 长度"),
    "length": ("length", "length"),
    "past_end": (
        "(malformed) {name} length {length}: only {left} bytes follow",
        "（格式错误）{name} 长度为 {length}，后面却只有 {left} 字节",
    ),
    "after": ("(malformed) {n} bytes after {what}", "（格式错误）{what}之后还多出 {n} 字节"),
    "the_record": ("the record", "记录"),
    "the_alert": ("the alert", "警报"),
    "the_handshake_message": ("the handshake message", "握手消息"),
    "the_message": ("the message", "消息"),
    "elided": ("… {n} bytes …", "… {n} 字节 …"),
    "unknown": ("unknown", "未知"),
    "uint24_of_body": ("uint24, of the body", "uint24，消息体的长度"),
    "of_fragment": ("of the fragment", "fragment 的长度"),
    "message_body": ("message body", "消息体"),
    "body": ("body ({n} bytes)", "消息体（{n} 字节）"),
    "der": ("DER: {subject}", "DER：{subject}"),
    "not_a_certificate": ("DER (not a certificate)", "DER（不是数字证书）"),
    "empty_entry": (
        "(malformed) cert_data[{index}] is empty",
        "（格式错误）cert_data[{index}] 是空的",
    ),
    "encrypted_secret": (
        "encrypted_secret: key X under RSA-OAEP(B+)",
        "encrypted_secret：用公钥B+ 以 RSA-OAEP 加密的密钥X",
    ),
    "unknown_level": ("unknown level", "未知级别"),
    "unknown_content_type": (
        "unknown content type (malformed)",
        "未知的记录类型（格式错误）",
    ),
    "empty": ("(empty)", "（空）"),
    "application_data": ("application data ({n} bytes)", "应用数据（{n} 字节）"),
    "fragment": (
        "fragment ({n} bytes, unknown content type)",
        "fragment（{n} 字节，记录类型未知）",
    ),
    "version": ("version = 0x{number:04x} ({known})", "version = 0x{number:04x}（{known}）"),
    "toytls1": ("toytls/1", "toytls/1"),
    "not_toytls1": ("not toytls/1 (malformed)", "不是 toytls/1（格式错误）"),
    "length_says": (
        "(malformed) length says {length}, {left} bytes follow",
        "（格式错误）length 写的是 {length}，后面实际有 {left} 字节",
    ),
    "short_tag": (
        "protected fragment shorter than the {tag}-byte tag",
        "加密的 fragment 比 {tag} 字节的认证标签还短",
    ),
    "ciphertext": (
        "encrypted content ({n} bytes, AES-128-GCM)",
        "密文（{n} 字节，AES-128-GCM）",
    ),
    "tag": ("authentication tag ({n} bytes)", "认证标签（{n} 字节）"),
    "seq": (
        "seq = {seq} (implicit: counted by both sides, never sent)",
        "seq = {seq}（隐含的序号：双方各自计数，从不在线路上发送）",
    ),
    "nonce": ("nonce = {nonce} (write_iv XOR seq)", "nonce = {nonce}（write_iv XOR seq）"),
    "decrypted": (
        "── decrypted: {n} bytes of {content} ──",
        "── 解密后：{n} 字节的 {content} ──",
    ),
}
