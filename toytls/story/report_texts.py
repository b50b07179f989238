"""The words of the demo's one-file HTML report, in English and Chinese.

Each entry is an (English, Chinese) pair; :mod:`toytls.story.report` fills
the placeholders and escapes everything. The lessons are the three scenarios
that run no connection (2, 3, 4): their diagrams tell the article's own
story rather than a recorded run, and say so.
"""

from __future__ import annotations

PAGE: dict[str, tuple[str, str]] = {
    "title": (
        "toytls demo: HTTPS built and attacked, step by step",
        "toytls 演示：一步步搭建并攻击 HTTPS",
    ),
    "intro": (
        "Each scenario below ran for real on this machine: a server, sometimes an attacker "
        "in the middle, and a client, talking over loopback (scenario 4 is a timing, run in "
        "memory). The diagrams are drawn from the "
        "events each of them reported, with the real values of this run (fingerprints, "
        "digests S and T, key X's fingerprint). Names are the article's: the CA's keys A+/A−, "
        "the server's B+/B−, the session key X.",
        "下面每个场景都在这台机器上真实运行过：一个服务器，有时有一个中间人，一个客户端，"
        "通过本机回环通信（场景 4 只是计时，在内存里运行）。"
        "图是根据它们各自报告的事件画出来的，"
        "带着这次运行的真实数值（指纹、摘要S 和 T、密钥X 的指纹）。"
        "名字沿用文章的：CA 的公私钥 A+/A−，服务器的 B+/B−，会话密钥X。",
    ),
    "predicted": ("The article predicts", "文章的预言"),
    "happened": ("What happened", "实际结果"),
    "as_predicted": ("✓ as predicted", "✓ 与预言一致"),
    "not_predicted": ("✗ NOT as predicted", "✗ 与预言不一致"),
    "lesson": (
        "No connection runs in this scenario: the diagram tells the article's story.",
        "这个场景不建立连接：图讲的是文章里的故事。",
    ),
    "mode": ("through the attacker's proxy, mode {mode}", "经过中间人的代理，模式 {mode}"),
    "no_diagram": ("(nothing was recorded for this scenario)", "（这个场景没有记录到任何东西）"),
    "table": ("Every scenario at a glance", "所有场景一览"),
    "col_number": ("#", "#"),
    "col_title": ("scenario", "场景"),
    "col_predicted": ("predicted", "预言"),
    "col_happened": ("happened", "实际"),
    "col_ok": ("as predicted?", "一致？"),
    "yes": ("✓ yes", "✓ 是"),
    "no": ("✗ no", "✗ 否"),
    "all_ok": ("Every scenario behaved as the article predicts.", "每个场景都和文章预言的一样。"),
    "some_bad": ("Some scenarios did not behave as predicted.", "有的场景和预期不一样。"),
}

#: The lessons' diagrams: lanes, then steps ("arrow", from, to, label, carries,
#: protected) or ("note", lane, text, kind).
LESSON_LANES: dict[int, tuple[str, ...]] = {
    2: ("client", "eavesdropper", "server"),
    3: ("client", "eavesdropper", "server"),
    4: ("client", "server"),
}

LESSON_STEPS: dict[int, tuple[tuple[object, ...], ...]] = {
    2: (
        (
            "arrow",
            0,
            2,
            ("key X", "密钥X"),
            ("in clear: everyone on the path copies it", "明文：路上的人都能抄下来"),
            False,
        ),
        ("note", 1, ("copies key X", "抄下密钥X"), "attack"),
        ("arrow", 0, 2, ("{letter}", "{信}"), ("locked with X (AES)", "用 X 锁住（AES）"), True),
        ("note", 1, ("opens the letter with the copied X", "用抄来的 X 打开了信"), "attack"),
    ),
    3: (
        (
            "arrow",
            2,
            0,
            ("B+", "公钥B+"),
            ("the server's public key, sent to everyone", "服务器的公钥，发给所有人"),
            False,
        ),
        ("note", 1, ("has B+ too", "也拿到了 B+"), "info"),
        (
            "arrow",
            2,
            0,
            ("{reply}", "{回复}"),
            ("locked with B− (RSA)", "用私钥B− 锁住（RSA）"),
            True,
        ),
        ("note", 1, ("opens the reply with B+", "用 B+ 打开了回复"), "attack"),
    ),
    4: (
        (
            "arrow",
            0,
            1,
            ("ClientKeyExchange", "ClientKeyExchange"),
            ("key X locked with B+: RSA, once", "用公钥B+ 锁住的密钥X：RSA，只用一次"),
            False,
        ),
        (
            "note",
            1,
            ("unlocks X with B− (slow, but only once)", "用私钥B− 解出 X（慢，但只做一次）"),
            "info",
        ),
        (
            "arrow",
            0,
            1,
            ("{application data}", "{应用数据}"),
            ("AES-GCM with keys from X: fast", "用 X 派生的密钥做 AES-GCM：快"),
            True,
        ),
        (
            "arrow",
            1,
            0,
            ("{application data}", "{应用数据}"),
            ("AES-GCM with keys from X: fast", "用 X 派生的密钥做 AES-GCM：快"),
            True,
        ),
    ),
}
