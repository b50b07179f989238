"""The status lines of server, client, tunnel and certs, in English and Chinese.

Each entry is ``key: (English, Chinese)``; ``{name}`` fields are filled in
by :func:`status_text`. The Chinese uses the article's terms (数字证书,
公钥B+, 密钥X, 明文, 中间人). Protocol names, addresses, flags and hex stay
as they are in both languages. Text that comes from an exception (a
certificate's reason, an operating system's error) is filled in, never
written here.

As in :mod:`toytls.story.command_texts`, each line says only what the side
that prints it knows: the server does not claim what its client checked.
"""

from __future__ import annotations

import errno

#: The lines, as ``key: (English, Chinese)`` templates.
STATUS_TEXT: dict[str, tuple[str, str]] = {
    # ---------------------------------------------------------------- console
    "warning_prefix": ("WARNING: ", "警告："),
    "error_prefix": ("toytls: ", "toytls："),
    "only_not_numbers": (
        "--only takes scenario numbers like 6,12, not {text!r}",
        "--only 要写场景编号，比如 6,12，而不是 {text!r}",
    ),
    "only_out_of_range": (
        "--only takes numbers from 1 to {n}, not {text!r}",
        "--only 的场景编号只能是 1 到 {n}，而不是 {text!r}",
    ),
    "demo_interrupted": (
        "interrupted; everything the demo started is stopped",
        "已中断；演示启动的一切都已停止",
    ),
    "hexdump_record": ("{arrow} record", "{arrow} 记录"),
    "bad_address": (
        "{what} must look like HOST:PORT or [IPv6]:PORT (for example 127.0.0.1:4433), not {text!r}",
        "{what} 的格式应为 HOST:PORT 或 [IPv6]:PORT（例如 127.0.0.1:4433），而不是 {text!r}",
    ),
    # -------------------------------------------------- every listening command
    "cannot_listen": (
        "cannot listen on {address}: {why}",
        "无法在 {address} 上监听：{why}",
    ),
    "stopped_server": ("server stopped", "服务器已停止"),
    "stopped_tunnel": ("tunnel stopped", "隧道已停止"),
    "stopped_proxy": ("proxy stopped", "代理已停止"),
    "keylog_unwritable": (
        "cannot write the key log {path}: {why}",
        "无法写入密钥日志 {path}：{why}",
    ),
    "internal_error": (
        "internal error: {kind}: {error}",
        "内部错误：{kind}：{error}",
    ),
    # ----------------------------------------------------------------- server
    "server_listening": (
        "listening on {address} ({mode}, {app}); Ctrl-C stops",
        "在 {address} 上监听（{mode}，{app}）；按 Ctrl-C 停止",
    ),
    "mode_toytls": ("toytls/1", "toytls/1"),
    "mode_plaintext": ("plaintext (no encryption at all!)", "明文（完全不加密！）"),
    "app_named": ("app {app}", "应用 {app}"),
    "app_forward": ("forwarding to {address}", "转发到 {address}"),
    "server_plaintext": (
        "plaintext mode: everything crosses the network readable and changeable",
        "明文模式：所有数据都在网络上“裸奔”，途经的任何人都能看到，也能篡改",
    ),
    "server_files_missing": (
        "{path} not found — run `toytls certs` first to make the demo certificates",
        "找不到 {path} —— 请先运行 `toytls certs` 生成演示用的数字证书",
    ),
    "connected_from": ("connected from {peer}", "{peer} 已连接"),
    "handshake_done": (
        "handshake done: {name!r}, {cipher}, key X fingerprint {fp}",
        "握手完成：{name!r}，{cipher}，密钥X 的指纹 {fp}",
    ),
    "server_end": (
        "{peer} {how} ({bytes_in} bytes in, {bytes_out} out)",
        "{peer} {how}（收到 {bytes_in} 字节，发出 {bytes_out} 字节）",
    ),
    "how_disconnected": ("disconnected", "已断开"),
    "how_failed": ("failed: {why}", "连接失败：{why}"),
    "alert_received": (
        "alert received: {alert} — {meaning}",
        "收到警报 {alert} —— {meaning}",
    ),
    "alert_sent": ("alert sent: {alert} — {error}", "发出警报 {alert} —— {error}"),
    "connection_broken": ("connection broken", "连接中断"),
    "forwarding": ("forwarding to {address}", "转发到 {address}"),
    "service_broke": (
        "the service at {address} broke: {error}",
        "{address} 上的服务出了故障：{error}",
    ),
    "chat_prompt": (
        "type a line to answer every client, or @N text to answer client N",
        "输入一行回复所有客户端；以 @N 开头（例如 @2 你好）只回复第 N 号客户端",
    ),
    "chat_says": ("says: {line}", "说：{line}"),
    "chat_no_connection": (
        "no connection {number!r}; connected: {connected}",
        "没有 {number!r} 号连接；当前的连接：{connected}",
    ),
    # ----------------------------------------------------------------- client
    "client_insecure": (
        "--insecure: the server's certificate will NOT be checked. Anyone between "
        "you and the server can pose as it, read and change everything.",
        "--insecure：不验证服务器的数字证书。你和服务器之间的任何人都能冒充服务器，"
        "看到并篡改所有内容。",
    ),
    "client_plaintext": (
        "--plaintext: no encryption at all; everything is readable on the wire",
        "--plaintext：完全不加密，数据在网络上“裸奔”，谁都能看到",
    ),
    "reply": ("reply: {text}", "回复：{text}"),
    "from_server": ("server: {line}", "服务器：{line}"),
    "server_closed": ("the server closed the connection", "服务器关闭了连接"),
    "type_lines": (
        "type lines to send; Ctrl-D to finish",
        "输入要发送的内容，每行一条；按 Ctrl-D 结束",
    ),
    "http_request": (
        "> {method} {target} HTTP/1.1 (Host: {host})",
        "> {method} {target} HTTP/1.1（Host: {host}）",
    ),
    "http_error_answer": ("the server answered {status}", "服务器的应答是 {status}"),
    "certificate_rejected": (
        "certificate rejected ({alert}): {reason}",
        "数字证书被拒绝（{alert}）：{reason}",
    ),
    "certificate_rejected_short": ("certificate rejected ({alert})", "数字证书被拒绝（{alert}）"),
    "connection_failed": ("connection failed: {why}", "连接失败：{why}"),
    "connection_failed_short": ("connection failed", "连接失败"),
    "connection_failed_alert": ("connection failed ({alert})", "连接失败（{alert}）"),
    "interrupted": ("interrupted", "已中断"),
    "cafile_missing_default": (
        "{path} not found — run `toytls certs` first",
        "找不到 {path} —— 请先运行 `toytls certs`",
    ),
    "cafile_missing": ("not found: {path}", "找不到：{path}"),
    # ----------------------------------------------------------------- tunnel
    "tunnel_listening": (
        "tunnel listening on {address} (plain TCP) → toytls/1 to {connect} as {name!r}; "
        "Ctrl-C stops",
        "隧道在 {address} 上监听（明文 TCP）→ 经 toytls/1 连到 {connect}，要访问 {name!r}；"
        "按 Ctrl-C 停止",
    ),
    "tunnel_insecure": (
        "--insecure: the server's certificate will NOT be checked on any tunnelled "
        "connection. Anyone in between can pose as the server.",
        "--insecure：隧道里的每条连接都不验证服务器的数字证书。中间的任何人都能冒充服务器。",
    ),
    "tunnel_accepted": (
        "accepted {peer}; connecting to {connect}",
        "接受了 {peer} 的连接；正在连接 {connect}",
    ),
    "tunnel_up": (
        "toytls up: {name!r}, {check}, key X fingerprint {fp}",
        "toytls 连接已建立：{name!r}，{check}，密钥X 的指纹 {fp}",
    ),
    "chain_checked": ("chain checked", "证书链已验证"),
    "chain_not_checked": ("chain NOT checked (--insecure)", "证书链未验证（--insecure）"),
    "tunnel_end": (
        "{peer} {how} ({up} bytes sent through, {down} back)",
        "{peer} {how}（送过去 {up} 字节，传回来 {down} 字节）",
    ),
    "how_closed": ("closed", "已关闭"),
    "local_broke": (
        "the local program's connection broke ({error})",
        "本地程序的连接断了（{error}）",
    ),
    "not_tunnelled": ("{peer} not tunnelled: {reason}", "{peer} 没能接通隧道：{reason}"),
    # ------------------------------------------------------------------ certs
    "certs_exist": (
        "{directory}/ already holds {names}: not replacing them (use --force)",
        "{directory}/ 里已有 {names}：不覆盖（加 --force 才会替换）",
    ),
    "certs_exist_race": ("{error} (use --force to replace them)", "{error}（加 --force 才会替换）"),
    "certs_generating": (
        "Generating RSA-2048 keys and certificates for {name!r} …",
        "正在为 {name!r} 生成 RSA-2048 密钥和数字证书 …",
    ),
    "certs_root": ("root CA (A+ lives here)", "根 CA 的数字证书（公钥A+ 就在这里）"),
    "certs_intermediate": ("intermediate CA", "中间 CA 的数字证书"),
    "certs_server": ("server (B+ lives here)", "服务器的数字证书（公钥B+ 就在这里）"),
    "field_subject": ("subject", "持有者"),
    "field_issuer": ("issuer", "签发者"),
    "field_not_before": ("not_before", "生效时间"),
    "field_not_after": ("not_after", "失效时间"),
    "field_fingerprint": ("fingerprint", "指纹"),
    "certs_wrote": ("wrote {count} files to {directory}/", "已把 {count} 个文件写入 {directory}/"),
    "certs_openssl": ("check the chain with openssl:", "可以用 openssl 验证这条证书链："),
}

#: Why a socket cannot listen, in Chinese, for the errors people meet.
_LISTEN_ERRORS_ZH: dict[int, str] = {
    errno.EADDRINUSE: "地址已被占用（是不是已经有程序在这个端口上监听？）",
    errno.EADDRNOTAVAIL: "本机没有这个地址",
    errno.EACCES: "没有权限（1024 以下的端口通常需要管理员权限）",
}


def status_text(key: str, lang: str = "en", **values: object) -> str:
    """The line ``key`` in ``lang`` ("en" or "zh"), its fields filled in.

    Raises:
        KeyError: An unknown ``key``.
        ValueError: An unknown ``lang``.
    """
    if lang not in ("en", "zh"):
        raise ValueError(f"lang must be en or zh, not {lang!r}")
    return STATUS_TEXT[key][lang == "zh"].format(**values)


def listen_error(exc: OSError, lang: str = "en") -> str:
    """Why listening failed: the system's words, or Chinese for the usual errors."""
    if lang == "zh" and exc.errno in _LISTEN_ERRORS_ZH:
        return _LISTEN_ERRORS_ZH[exc.errno]
    return exc.strerror or str(exc)
