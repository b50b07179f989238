"""Every error a person can meet, in English and Chinese, by message id.

The core raises errors with a stable ``key`` and the ``params`` that fill it
(:class:`~toytls.core.errors.ToyTLSError`, :class:`~toytls.core.errors.ConfigError`);
this module says them in either language without parsing the English. Each
entry of :data:`ERRORS` is ``(english, chinese)``; the English template gives
back the error's own message word for word (a test holds them together), the
Chinese one uses the article's terms (数字证书, 数字签名, 摘要T/摘要S, 公钥/私钥,
CA, 根证书, 证书链, 密钥X…). Protocol names (alerts, messages, fields, DNs,
hex) stay as they are.

:func:`describe_reason` says what went wrong; :func:`describe_error` says it
as one line, with the alert that ended the connection. An error without a
``key`` is still told honestly: in Chinese by its alert's meaning, or with
the original English quoted. Nothing here prints.
"""

from __future__ import annotations

import errno
from collections.abc import Mapping

from ..core.constants import AlertDescription
from ..core.errors import CertificateVerifyError, ConfigError, ToyTLSError
from .narration_texts import ALERT_MEANINGS, CLOSE_NOTIFY_AS_FAILURE

LANGUAGES = ("en", "zh")

#: ``key: (English, Chinese)``; ``{name}`` fields come from the error's params.
ERRORS: dict[str, tuple[str, str]] = {
    # --- §4: why a chain was refused (CertificateVerifyError.reason) ---------
    "cert.none_sent": ("the server sent no certificate", "服务器没有发来任何数字证书"),
    "cert.malformed": (
        "certificate {index} is not well-formed DER: {detail}",
        "第 {index} 张数字证书不是格式正确的 DER，无法解析（cryptography 报错：“{detail}”）",
    ),
    "cert.no_roots": (
        "no trusted root certificates are configured",
        "没有配置任何受信任的根证书，无从验证证书链",
    ),
    "cert.bad_dns_name": (
        "{name!r} is not a valid DNS name, so no certificate can match it",
        "{name!r} 不是合法的 DNS 域名，没有哪张数字证书能与它匹配",
    ),
    "cert.profile": (
        "the chain breaks the certificate profile: {detail}",
        "证书链不符合证书规范（验证器报错：“{detail}”）",
    ),
    "cert.self_signed": (
        "{subject} is self-signed, and is not a trusted root",
        "{subject} 是自签名证书，却不在受信任的根证书之列",
    ),
    "cert.untrusted_issuer": (
        "{subject} is issued by {issuer}, which is not a trusted root",
        "{subject} 的签发者是 {issuer}，它不在受信任的根证书之列",
    ),
    "cert.t_not_s": (
        "the signature on {subject} does not match its content: digest T ≠ S (T = {t}…, S = {s}…)",
        "{subject} 的数字签名和证书内容对不上：摘要T ≠ 摘要S（T = {t}…，S = {s}…）",
    ),
    "cert.t_unrecoverable": (
        "the signature on {subject} does not match its content: digest T ≠ S "
        "(T cannot be recovered with {issuer}'s key)",
        "{subject} 的数字签名和证书内容对不上：用 {issuer} 的公钥A+ 还原不出摘要T",
    ),
    "cert.not_yet_valid": (
        "{subject} is not yet valid: its validity starts {start} "
        "(valid {start} to {end}, now {now})",
        "{subject} 还没到生效时间：有效期从 {start} 开始（有效期 {start} 至 {end}，现在是 {now}）",
    ),
    "cert.expired": (
        "{subject} expired {end} (valid {start} to {end}, now {now})",
        "{subject} 已于 {end} 过期（有效期 {start} 至 {end}，现在是 {now}）",
    ),
    "cert.issuer_not_ca": (
        "{issuer} issued {subject} but is not a CA (basicConstraints cA is not TRUE)",
        "{issuer} 签发了 {subject}，可它自己不是 CA（basicConstraints 的 cA 不是 TRUE）",
    ),
    "cert.issuer_cannot_sign": (
        "{issuer} issued {subject} but may not sign certificates (its keyUsage lacks keyCertSign)",
        "{issuer} 签发了 {subject}，可它无权签发证书（keyUsage 里没有 keyCertSign）",
    ),
    "cert.path_length": (
        "{issuer} allows {limit} CA certificate(s) below it (pathLenConstraint {limit}), "
        "but {below} follow it",
        "{issuer} 下面最多只能再有 {limit} 张 CA 证书（pathLenConstraint {limit}），"
        "实际却有 {below} 张",
    ),
    "cert.no_san": (
        "{subject} has no subjectAltName, and the common name is never consulted",
        "{subject} 没有 subjectAltName 扩展，而证书上的通用名称（CN）从来不拿来核对域名",
    ),
    "cert.other_name": (
        "the certificate is for {names}, not {name}",
        "这张数字证书是颁发给 {names} 的，不是 {name}",
    ),
    "cert.no_dns_name": (
        "the certificate is for no DNS name at all, not {name}",
        "这张数字证书上没有任何 DNS 域名，不是颁发给 {name} 的",
    ),
    "cert.leaf_is_ca": (
        "the server certificate {subject} is a CA (basicConstraints cA=TRUE), "
        "which a leaf must not be",
        "服务器证书 {subject} 是一张 CA 证书（basicConstraints cA=TRUE），而服务器证书不能是 CA",
    ),
    "cert.not_for_servers": (
        "the server certificate {subject} is not for servers: its extendedKeyUsage "
        "({usages}) lacks serverAuth",
        "服务器证书 {subject} 不是给服务器用的：它的 extendedKeyUsage（{usages}）里没有 serverAuth",
    ),
    "cert.unknown_key_type": (
        "{subject} has a key of a type toytls does not know",
        "{subject} 里的公钥是 toytls 不认识的类型",
    ),
    "cert.weak_key": (
        "weak key: RSA-{bits} in {subject} (at least RSA-{minimum} is required)",
        "密钥太弱：{subject} 用的是 RSA-{bits}（至少要 RSA-{minimum}）",
    ),
    "cert.leaf_not_rsa": (
        "the server certificate's key is {key_type}, not RSA",
        "服务器证书里的公钥是 {key_type}，不是 RSA",
    ),
    "cert.no_rsa_for_x": (
        "the leaf certificate's key is not RSA, so key X cannot be sent to it",
        "服务器证书里的公钥不是 RSA，没法用它加密密钥X 发过去",
    ),
    # --- records (§1, §3.4) ----------------------------------------------------
    "record.seq_exhausted": (
        "sequence numbers exhausted; the connection must close",
        "序列号已经用完，连接必须关闭",
    ),
    "record.shorter_than_tag": (
        "protected record of {n} bytes is shorter than its tag",
        "这条加密记录只有 {n} 字节，连认证标签都放不下",
    ),
    "record.bad_mac": (
        "record {seq} failed to decrypt: it was changed, replayed, reordered "
        "or sealed under other keys",
        "序号为 {seq} 的记录解密失败：它在路上被篡改、重放或调换了顺序，或者是用别的密钥加密的",
    ),
    "record.unknown_type": ("unknown record content type {type}", "未知的记录类型 {type}"),
    "record.version": (
        "record version 0x{version} is not toytls/1 (0x0100)",
        "记录的版本号 0x{version} 不是 toytls/1（0x0100）",
    ),
    "record.overflow": (
        "record of {length} bytes is over the limit of {limit}",
        "记录长 {length} 字节，超过了 {limit} 字节的上限",
    ),
    "record.unexpected": (
        "{type} record not allowed in state '{state}'",
        "当前状态（{state}）不允许出现 {type} 记录",
    ),
    "record.empty": ("empty {type} record", "{type} 记录是空的"),
    "record.too_many_empty": (
        "more than {limit} empty records in a row",
        "连续收到了超过 {limit} 条空记录",
    ),
    # --- the connection, alerts and the handshake (§2, §5) ---------------------
    "connection.truncated": (
        "the connection was cut without close_notify (truncation): the data may be incomplete",
        "还没收到 close_notify，连接就被切断了（截断）：收到的数据可能不完整",
    ),
    "connection.closed_in_handshake": (
        "the peer closed the connection during the handshake ({state})",
        "对方在握手过程中关闭了连接（当时处于：{state}）",
    ),
    "alert.size": ("an alert is 2 bytes, this one is {n}", "警报应为 2 字节，这条却有 {n} 字节"),
    "alert.received": (
        "the peer sent alert {alert} (level {level})",
        "对方发来警报 {alert}（级别 {level}）",
    ),
    "handshake.aborted": (
        "the peer aborted the handshake with close_notify",
        "对方用 close_notify 中止了握手",
    ),
    "handshake.unexpected": (
        "handshake message {msg_type} not allowed in state '{state}'",
        "当前状态（{state}）不允许收到类型为 {msg_type} 的握手消息",
    ),
    "handshake.unrecognized_name": (
        "this server does not serve {name!r}",
        "本服务器不提供 {name!r} 这个域名",
    ),
    "handshake.finished_mismatch": (
        "the peer's Finished does not match: it holds other keys or saw another handshake",
        "对方的 Finished 校验不通过：它持有别的密钥，或者看到的握手过程不一样",
    ),
    # --- bytes that do not parse (§2) ------------------------------------------
    "decode.short": (
        "malformed {what}: needs {size} more bytes, has {remaining}",
        "{what}格式错误：还需要 {size} 字节，却只剩 {remaining} 字节",
    ),
    "decode.length_range": (
        "malformed {what}: length {length} outside {minimum}..{maximum}",
        "{what}格式错误：长度 {length} 不在 {minimum}..{maximum} 范围内",
    ),
    "decode.trailing": (
        "malformed {what}: {n} trailing bytes",
        "{what}格式错误：末尾多出 {n} 字节",
    ),
    "decode.length_field": (
        "malformed {what}: length field says {length}, record holds {held}",
        "{what}格式错误：长度字段写的是 {length}，记录里实际是 {held} 字节",
    ),
    "decode.server_name": (
        "server_name {name!r} holds bytes outside [a-z0-9.-]",
        "server_name {name!r} 含有 [a-z0-9.-] 以外的字节",
    ),
    "decode.certificate_count": (
        "Certificate carries {n} entries; 1 to {maximum} are allowed",
        "Certificate 消息里有 {n} 张证书，只允许 1 到 {maximum} 张",
    ),
    "decode.secret_length": (
        "encrypted_secret is {n} bytes; the server key needs exactly {size}",
        "encrypted_secret 有 {n} 字节，服务器的公钥要求正好 {size} 字节",
    ),
    # --- the stream over TCP (§6) ----------------------------------------------
    "stream.handshake_timeout": (
        "no handshake within {timeout:g} s",
        "{timeout:g} 秒内没有完成握手",
    ),
    "stream.send_cancelled": (
        "send_all was cancelled part-way",
        "发送（send_all）进行到一半被取消了",
    ),
    "stream.cut_mid_record": (
        "a send was cancelled mid-record",
        "一条记录发到一半时，发送被取消了",
    ),
    "stream.transport_failed": ("the transport failed: {detail}", "底层连接出错：{os_error}"),
    # --- settings and files ------------------------------------------------------
    "config.name_length": (
        "server name {name!r} must be 1 to 253 characters long",
        "服务器名 {name!r} 的长度必须在 1 到 253 个字符之间",
    ),
    "config.name_chars": (
        "server name {name!r} may only hold letters, digits, '.' and '-'",
        "服务器名 {name!r} 只能包含字母、数字、“.”和“-”",
    ),
    "config.chain_length": (
        "a certificate chain holds 1 to {maximum} certificates, not {n}",
        "证书链应有 1 到 {maximum} 张证书，这里却有 {n} 张",
    ),
    "config.chain_size": (
        "the Certificate message would be {size} bytes; it must fit in one record ({limit})",
        "Certificate 消息会有 {size} 字节，而它必须放得进一条记录（{limit} 字节）",
    ),
    "config.chain_order": (
        "the chain is out of order: the private key belongs to certificate {index} of {n}, "
        "but the first certificate must be that leaf (the order is leaf, intermediates, root)",
        "证书链的顺序不对：私钥对应的是第 {index} 张证书（共 {n} 张），可第一张必须是它"
        "（顺序应为：服务器证书、中间证书、根证书）",
    ),
    "config.key_mismatch": (
        "the private key does not belong to the first certificate",
        "私钥和证书链里的第一张证书不配对",
    ),
    "pem.no_certificate": (
        "not a PEM certificate bundle: no certificate could be read from it",
        "这不是 PEM 格式的证书文件：从中读不出任何数字证书",
    ),
    "pem.key_encrypted": (
        "not an unencrypted PEM private key: it is encrypted",
        "这不是未加密的 PEM 私钥：它被加了密",
    ),
    "pem.no_key": (
        "not an unencrypted PEM private key: no readable key in it",
        "这不是未加密的 PEM 私钥：里面读不出私钥",
    ),
    "pem.not_rsa": (
        "expected an RSA private key, got {key_type}",
        "需要 RSA 私钥，这里却是 {key_type}",
    ),
    "pem.not_one": (
        "{file} holds {n} certificates, expected 1",
        "{file} 里有 {n} 张证书，应该正好 1 张",
    ),
    "pem.key_mismatch": (
        "{key_file} is not the key of {cert_file}",
        "{key_file} 不是 {cert_file} 对应的私钥",
    ),
    "pem.chain_order": (
        "{file} is not {server} followed by {intermediate}",
        "{file} 的内容不是 {server} 后面跟着 {intermediate}",
    ),
    "pem.no_dns_name": (
        "{file} has no dNSName in subjectAltName",
        "{file} 的 subjectAltName 里没有 dNSName",
    ),
    "pem.missing": (
        "{path} not found — run `toytls certs` first",
        "找不到 {path} —— 请先运行 `toytls certs`",
    ),
    # --- the files the tools read: certificates, captures, key logs ------------------
    "inspect.not_a_certificate": (
        "not a certificate (neither PEM with a CERTIFICATE block nor DER)",
        "这不是数字证书（既不是含 CERTIFICATE 块的 PEM，也不是 DER）",
    ),
    "capture.not_pcap": (
        "not a pcap or pcapng capture (the file does not start like one)",
        "这不是 pcap 或 pcapng 抓包文件（文件开头就不像）",
    ),
    "capture.header_cut": (
        "truncated: the pcap file header is incomplete",
        "抓包文件被截断了：pcap 文件头不完整",
    ),
    "capture.packet_header_cut": (
        "truncated: packet {number}'s header is cut off",
        "抓包文件被截断了：第 {number} 个数据包的包头不完整",
    ),
    "capture.packet_cut": (
        "truncated: packet {number} is cut off",
        "抓包文件被截断了：第 {number} 个数据包不完整",
    ),
    "capture.link_type": (
        "unsupported link type {linktype} (Ethernet, Linux cooked, loopback)",
        "不支持链路类型 {linktype}（只认 Ethernet、Linux cooked 和 loopback）",
    ),
    "capture.unreadable": (
        "not a readable capture: {detail}",
        "读不懂这个抓包文件（dpkt 报错：“{detail}”）",
    ),
    "capture.no_toytls": (
        "no toytls/1 conversation in this capture ({count} TCP conversation(s), "
        "none starts with a ClientHello record)",
        "这个抓包文件里没有 toytls/1 对话"
        "（共 {count} 段 TCP 对话，没有一段以 ClientHello 记录开头）",
    ),
    "capture.no_toytls_on_port": (
        "no toytls/1 conversation on port {port} in this capture ({count} TCP "
        "conversation(s), none starts with a ClientHello record)",
        "这个抓包文件里端口 {port} 上没有 toytls/1 对话"
        "（共 {count} 段 TCP 对话，没有一段以 ClientHello 记录开头）",
    ),
    "keylog.no_line": (
        "no usable {label} line (expected {label} <64 hex> <64 hex>)",
        "没有一行可用的 {label} 记录（格式应为：{label} <64 位十六进制> <64 位十六进制>）",
    ),
    "decode.alert_length": (
        "an alert of {n} bytes (2 expected)",
        "警报应为 2 字节，这条却有 {n} 字节",
    ),
}

#: One line about a failed connection: ``key: (English, Chinese)``.
FRAMES: dict[str, tuple[str, str]] = {
    "certificate": (
        "certificate rejected ({alert}): {reason}",
        "数字证书被拒绝（{alert}）：{reason}",
    ),
    "by_peer": (
        "the peer ended the connection with alert {alert}: {meaning}",
        "对方以警报 {alert} 结束了连接：{meaning}",
    ),
    "no_alert": (
        "the connection ended without an alert: {why}",
        "连接在没有警报的情况下结束：{why}",
    ),
    "sent": ("this side sent alert {alert}: {why}", "本方发出警报 {alert}：{why}"),
    "sent_unknown": (
        "this side sent alert {alert}: {meaning} ({why})",
        "本方发出警报 {alert}：{meaning}",
    ),
    "unknown_alert": (
        "code {code} is not defined by toytls/1; it ends the connection all the same",
        "toytls/1 没有定义代码 {code}；它同样会结束连接",
    ),
    "log_sent": ("alert sent: {alert} — {why}", "发出警报 {alert}：{why}"),
    "log_received": ("alert received: {alert} — {meaning}", "收到警报 {alert}：{meaning}"),
    "log_sent_alert": ("alert sent: {alert}", "发出警报 {alert}"),
    "log_received_alert": ("alert received: {alert}", "收到警报 {alert}"),
    "quoted": ("{text}", "出错了，英文原文是：“{text}”"),
}

#: The states of ``core/state.py`` as Chinese says them (English shows the value).
STATES_ZH: dict[str, str] = {
    "start": "尚未开始",
    "wait ClientHello": "等待 ClientHello",
    "wait ServerHello": "等待 ServerHello",
    "wait Certificate": "等待 Certificate",
    "wait ClientKeyExchange": "等待 ClientKeyExchange",
    "wait client Finished": "等待客户端的 Finished",
    "wait server Finished": "等待服务器的 Finished",
    "connected": "已连接",
    "sent close_notify": "已发出 close_notify",
    "received close_notify": "已收到 close_notify",
    "closed": "已关闭",
}

#: Structures a decode error may name that are words, not identifiers.
STRUCTURES_ZH: dict[str, str] = {"handshake message": "握手消息"}

#: What an OS error number means, for a file or a connection, in Chinese.
OS_ERRORS_ZH: dict[int, str] = {
    errno.ENOENT: "文件不存在",
    errno.EACCES: "没有权限",
    errno.EPERM: "不允许这样操作",
    errno.EISDIR: "这是一个目录，不是文件",
    errno.ENOTDIR: "路径中有一段不是目录",
    errno.ECONNREFUSED: "连接被拒绝（那个端口上没有程序在监听）",
    errno.ECONNRESET: "对方重置了连接",
    errno.ECONNABORTED: "连接被中止",
    errno.EPIPE: "对方已经关闭了连接，写不进去了",
    errno.ETIMEDOUT: "连接超时",
    errno.EHOSTUNREACH: "主机不可达",
    errno.ENETUNREACH: "网络不可达",
    errno.EADDRINUSE: "地址已被占用",
    errno.EADDRNOTAVAIL: "本机没有这个地址",
}


def lang_index(lang: str) -> int:
    """0 for English, 1 for Chinese.

    Raises:
        ValueError: Another ``lang``.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {', '.join(LANGUAGES)}, not {lang!r}")
    return LANGUAGES.index(lang)


def alert_meaning(code: int, lang: str = "en", *, fatal: bool = False) -> str:
    """One plain sentence on what an alert code (§5) means for a person.

    Args:
        code: The alert description; codes the spec does not define are
            described as such.
        lang: ``"en"`` or ``"zh"``.
        fatal: The alert ended the connection as a failure (sent at level
            fatal, or as an error the peer reported). Only close_notify
            reads differently then: it is no orderly close.

    Raises:
        ValueError: An unknown ``lang``.
    """
    which = lang_index(lang)
    if fatal and code == AlertDescription.CLOSE_NOTIFY:
        return CLOSE_NOTIFY_AS_FAILURE[which]
    meaning = ALERT_MEANINGS.get(code)
    if meaning is not None:
        return meaning[which]
    return FRAMES["unknown_alert"][which].format(code=code)


def _localized(params: Mapping[str, object], which: int) -> dict[str, object]:
    """``params`` with the words among them said in the language ``which``."""
    values = dict(params)
    if which == 0:
        return values
    state = values.get("state")
    if isinstance(state, str):
        values["state"] = STATES_ZH.get(state, state)
    what = values.get("what")
    if isinstance(what, str):
        values["what"] = STRUCTURES_ZH.get(what, f"{what} ")
    if "detail" in values:
        code = values.get("errno")
        known = OS_ERRORS_ZH.get(code) if isinstance(code, int) else None
        values["os_error"] = known or f"“{values['detail']}”"
    return values


def _template(error: BaseException, which: int) -> str | None:
    key = getattr(error, "key", None)
    params = getattr(error, "params", None)
    texts = ERRORS.get(key) if isinstance(key, str) else None
    if texts is None or not isinstance(params, Mapping):
        return None
    try:
        return texts[which].format(**_localized(params, which))
    except (KeyError, IndexError, ValueError):  # params that do not fit: say it another way
        return None


def _unkeyed(error: BaseException, which: int) -> str:
    """An error raised without a message id, told as honestly as we can."""
    if isinstance(error, ToyTLSError):
        english = error.reason if isinstance(error, CertificateVerifyError) else error.message
        if which == 0:
            return english
        if error.alert is not None:
            return alert_meaning(int(error.alert), "zh", fatal=error.from_peer)
        return FRAMES["quoted"][1].format(text=english)
    if isinstance(error, ConfigError):
        return error.detail if which == 0 else FRAMES["quoted"][1].format(text=error.detail)
    if isinstance(error, OSError) and error.filename is not None:
        reason = OS_ERRORS_ZH.get(error.errno or 0) if which else None
        return f"{error.filename}{'：' if which else ': '}{reason or error.strerror or error}"
    # Not ours (a usage error, say): its text is all there is.
    return str(error)


def os_error_text(error: OSError, lang: str = "en") -> str:
    """The operating system's reason for ``error`` (no file name), in ``lang``.

    The errors a user meets most have their own Chinese; any other keeps the
    system's English words, quoted as what the system said.

    Raises:
        ValueError: An unknown ``lang``.
    """
    which = lang_index(lang)
    english = error.strerror or str(error) or type(error).__name__
    if which == 0:
        return english
    return OS_ERRORS_ZH.get(error.errno or 0) or FRAMES["quoted"][1].format(text=english)


def describe_reason(error: BaseException, lang: str = "en") -> str:
    """What went wrong, in ``lang``, without the alert around it.

    For a refused chain this is its reason (the English is
    :attr:`~toytls.core.errors.CertificateVerifyError.reason`); for any other
    error of toytls, its message; for a :class:`ConfigError` read from a
    file, prefixed with the file. Another exception is told by its text.

    Raises:
        ValueError: An unknown ``lang``.
    """
    which = lang_index(lang)
    text = _template(error, which)
    if text is None:
        text = _unkeyed(error, which)
    if isinstance(error, ConfigError) and error.path is not None:
        return f"{error.path}{'：' if which else ': '}{text}"
    return text


def _cause(exc: BaseException) -> BaseException:
    """The toytls error behind a wrapper (``trio.BrokenResourceError``), else ``exc``."""
    cause = exc.__cause__
    if not isinstance(exc, ToyTLSError) and isinstance(cause, ToyTLSError):
        return cause
    return exc


def describe_error(exc: BaseException, lang: str = "en") -> str:
    """One line on why something failed, in ``lang``, naming the alert if any.

    Args:
        exc: A :class:`ToyTLSError`, an exception raised from one (the
            stream's ``BrokenResourceError``), a :class:`ConfigError`, an
            ``OSError`` or anything else.
        lang: ``"en"`` or ``"zh"``.

    Returns:
        For a refused chain, "certificate rejected (alert): reason"; for a
        connection error, who ended it with which alert and the specific
        reason (the alert's general meaning only when there is none, or
        when the peer sent it); otherwise :func:`describe_reason`.

    Raises:
        ValueError: An unknown ``lang``.
    """
    which = lang_index(lang)
    error = _cause(exc)
    if not isinstance(error, ToyTLSError):
        return describe_reason(error, lang)
    name = error.alert_name
    if isinstance(error, CertificateVerifyError):
        return FRAMES["certificate"][which].format(alert=name, reason=describe_reason(error, lang))
    if error.alert is None:
        return FRAMES["no_alert"][which].format(why=describe_reason(error, lang))
    if error.from_peer:
        meaning = alert_meaning(int(error.alert), lang, fatal=True)
        return FRAMES["by_peer"][which].format(alert=name, meaning=meaning)
    specific = _template(error, which)
    if specific is not None:
        return FRAMES["sent"][which].format(alert=name, why=specific)
    meaning = alert_meaning(int(error.alert), lang)
    return FRAMES["sent_unknown"][which].format(alert=name, meaning=meaning, why=error.message)


def describe_logged(error: ToyTLSError, lang: str = "en", *, told: bool = False) -> str:
    """A connection error as a server's log says it, after "failed: ".

    "alert sent: NAME — reason" when this side sent the alert, "alert
    received: NAME — what it means" when the peer did, else the reason.
    With ``told`` (the narration has just said why) only the alert is named.

    Raises:
        ValueError: An unknown ``lang``.
    """
    which = lang_index(lang)
    if error.alert is None:
        return describe_reason(error, lang)
    if told:
        key = "log_received_alert" if error.from_peer else "log_sent_alert"
        return FRAMES[key][which].format(alert=error.alert_name)
    if error.from_peer:
        meaning = alert_meaning(int(error.alert), lang, fatal=True)
        return FRAMES["log_received"][which].format(alert=error.alert_name, meaning=meaning)
    why = describe_reason(error, lang)
    return FRAMES["log_sent"][which].format(alert=error.alert_name, why=why)
