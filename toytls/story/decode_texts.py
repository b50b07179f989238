"""Every sentence of ``toytls decode`` and ``toytls wireshark``, in English and Chinese.

Each entry is ``(english, chinese)``; ``{name}`` fields are filled in by
:mod:`toytls.story.decode_render`. The terms are the narration's: digital
certificate (数字证书), public key B+ (公钥B+), private key B− (私钥B−), key X (密钥X).
"""

from __future__ import annotations

TEXT: dict[str, tuple[str, str]] = {
    "conversation": (
        "conversation {n}: client {client} → server {server}",
        "第 {n} 段对话：客户端 {client} → 服务器 {server}",
    ),
    "client": ("client → server", "客户端 → 服务器"),
    "server": ("server → client", "服务器 → 客户端"),
    "key_keylog": ("key X comes from the key log: {x}", "密钥X 来自密钥日志：{x}"),
    "key_key": (
        "key X opened from ClientKeyExchange with the server's private key B−: {x}",
        "用服务器的私钥B− 解开 ClientKeyExchange，得到密钥X：{x}",
    ),
    "no_key": (
        "no key given: the protected records stay ciphertext (try --keylog or --key)",
        "没有给出密钥：受保护的记录只能看到密文（试试 --keylog 或 --key）",
    ),
    "not_in_keylog": (
        "the key log has no line for this client random: the records stay ciphertext",
        "密钥日志里没有这个客户端随机数的记录：只能看到密文",
    ),
    "key_mismatch": (
        "this private key does not open this ClientKeyExchange: it is not the B− of the "
        "server's certificate, so the records stay ciphertext",
        "这把私钥解不开 ClientKeyExchange：它不是服务器数字证书里公钥B+ 对应的私钥B−，只能看到密文",
    ),
    "no_key_exchange": (
        "no ClientKeyExchange in this conversation: there is no key X to find",
        "这段对话里没有 ClientKeyExchange：没有密钥X 可找",
    ),
    "hello": (
        "ClientHello: asks for a secure talk with {name!r} (client random {random})",
        "ClientHello：请求与 {name!r} 安全通话（客户端随机数 {random}）",
    ),
    "server_hello": (
        "ServerHello (server random {random})",
        "ServerHello（服务器随机数 {random}）",
    ),
    "certificate": (
        "Certificate: the digital certificate chain ({names}); the first carries B+",
        "Certificate：数字证书链（{names}）；第一张装着公钥B+",
    ),
    "cke": (
        "ClientKeyExchange: key X locked with B+ ({n} bytes: {head})",
        "ClientKeyExchange：用公钥B+ 加密的密钥X（{n} 字节：{head}）",
    ),
    "finished": ("Finished (verify_data {head})", "Finished（verify_data {head}）"),
    "unknown": ("handshake message type {code}", "握手消息，类型 {code}"),
    "alert": ("alert {level} {name}", "警报 {name}（{level}）"),
    "protected": (
        "protected {kind}, {n} bytes: ciphertext {head}",
        "受保护的 {kind}，{n} 字节：密文 {head}",
    ),
    "opened": ("→ opened (seq {seq}): {what}", "→ 已解密（seq {seq}）：{what}"),
    "data": ("application data {text}", "应用数据 {text}"),
    "opened_unreadable": ("{kind}, unreadable: {why}", "{kind}，无法解析：{why}"),
    "not_opened": ("→ does not open: {why}", "→ 解不开：{why}"),
    "unreadable": ("{kind}, {n} bytes, unreadable: {why}", "{kind}，{n} 字节，无法解析：{why}"),
    "stopped": ("{side} stopped: {why}", "{side} 中断：{why}"),
    "stop_not_toytls": (
        "not toytls/1 from byte {at} on: {why}",
        "从第 {at} 字节起就不是 toytls/1 了：{why}",
    ),
    "stop_incomplete": (
        "the last {at} bytes are an incomplete record",
        "最后 {at} 字节是一条不完整的记录",
    ),
    "stop_gap": ("bytes are missing from the capture", "抓包里缺了一段字节，后面的无法还原"),
    "type": ("type {code}", "类型 {code}"),
    "warning": ("warning", "警告级"),
    "fatal": ("fatal", "致命级"),
    "none_opened": (
        "the key given opens none of these conversations",
        "给出的密钥一段对话也解不开",
    ),
    "summary": (
        "{records} records in {conversations} conversation(s); {opened} opened",
        "{conversations} 段对话，{records} 条记录；已解密 {opened} 条",
    ),
}

#: ``toytls wireshark``'s advice (stderr) and its one error; commands and menus stay as they are.
WIRESHARK: dict[str, tuple[str, str]] = {
    "advice": (
        "load it with:  wireshark -X lua_script:PATH   (or tshark -X lua_script:PATH)\n"
        "or copy it to your personal Lua plugins folder "
        "(Help > About Wireshark > Folders), e.g. ~/.local/lib/wireshark/plugins/\n"
        "filter: toytls; port 4433, or Decode As … toytls (tshark: -d tcp.port==PORT,toytls)",
        "加载方法：wireshark -X lua_script:PATH（或 tshark -X lua_script:PATH）\n"
        "也可以把它复制到你个人的 Lua 插件文件夹（位置见菜单“Help > About Wireshark > Folders”，"
        "中文界面是“帮助 > 关于 Wireshark > 文件夹”），例如 ~/.local/lib/wireshark/plugins/\n"
        "显示过滤器填 toytls；默认端口 4433，别的端口用“Decode As…”选 toytls"
        "（tshark 用 -d tcp.port==PORT,toytls）",
    ),
    "missing": (
        "the dissector is missing from this installation: {path}",
        "这次安装里缺了解析插件：{path}",
    ),
}
