"""What the commands say about stopping, cutting and limits, in English and Chinese.

Each entry is ``key: (English, Chinese)``; ``{name}`` fields are filled in
by :func:`command_text`. Each sentence says only what the side that prints
it knows: a server knows whether its close_notify left, not whether the
client read it.
"""

from __future__ import annotations

#: The sentences, as ``key: (English, Chinese)`` templates.
COMMAND_TEXT: dict[str, tuple[str, str]] = {
    # An endpoint (server app, client) stopped by a signal.
    "stopped_close_notify": (
        "stopped: close_notify sent, everything meant for the {peer} was sent",
        "已停止：已发出 close_notify，要发给{peer}的数据都已发出",
    ),
    "stopped_no_close_notify": (
        "stopped: close_notify could not be sent; the {peer} will see the connection cut",
        "已停止：未能发出 close_notify；{peer}会看到连接被切断",
    ),
    "stopped_plaintext": (
        "stopped: connection closed (plain TCP has no close_notify)",
        "已停止：连接已关闭（明文 TCP 没有 close_notify）",
    ),
    # A relay stopped by a signal: it cannot vouch that nothing was in flight.
    "cut_forward": (
        "cut by the stop: data may have been in flight, so the client gets no "
        "close_notify and the service a TCP reset",
        "因停止而切断：可能还有数据在途，所以客户端收不到 close_notify，服务收到 TCP 重置",
    ),
    "cut_tunnel": (
        "cut by the stop: data may have been in flight, so the local program gets a "
        "TCP reset and the server no close_notify",
        "因停止而切断：可能还有数据在途，所以本地程序收到 TCP 重置，服务器收不到 close_notify",
    ),
    "cut_proxy": (
        "cut by the stop: both connections reset, so neither end takes the cut for a "
        "complete exchange",
        "因停止而切断：两条连接都被重置，两端都不会把切断当成完整的交换",
    ),
    # client --message: what it keeps of the reply.
    "reply_limit": (
        "the reply is longer than {limit} bytes: keeping the first {limit}, "
        "reading the rest without keeping it",
        "回复超过 {limit} 字节：只保留前 {limit} 字节，其余的读取但不保留",
    ),
    "reply_dropped": (
        "the reply was {total} bytes; only the first {limit} are shown",
        "回复共 {total} 字节；只显示了前 {limit} 字节",
    ),
    "peer_client": ("client", "客户端"),
    "peer_server": ("server", "服务器"),
}


def command_text(key: str, lang: str = "en", **values: object) -> str:
    """The sentence ``key`` in ``lang`` ("en" or "zh"), its fields filled in.

    Raises:
        KeyError: An unknown ``key``.
        ValueError: An unknown ``lang``.
    """
    if lang not in ("en", "zh"):
        raise ValueError(f"lang must be en or zh, not {lang!r}")
    return COMMAND_TEXT[key][lang == "zh"].format(**values)
