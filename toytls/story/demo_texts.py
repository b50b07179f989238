"""Every sentence ``toytls demo`` says, in English and Chinese.

Kept apart from the scenario code so that the two languages stay side by
side and the code reads as the steps it runs. The Chinese uses the
article's terms (公钥B+, 私钥B−, 密钥X, 摘要T/S, 数字证书, 数字签名, 根证书);
the attacker's own pair is M+/M− ("swap_setup" maps it to the article's
letters); the sentences are our own.
"""

from __future__ import annotations

#: Scenario titles and the article's prediction for each, by number.
TITLES: dict[str, dict[int, tuple[str, str]]] = {
    "en": {
        1: (
            "Plain HTTP: anyone on the path reads and changes",
            "the attacker reads and changes it; nobody notices",
        ),
        2: ("One symmetric key only", "whoever saw key X travel reads everything"),
        3: ("One key pair only", "anyone holding B+ reads the server's replies"),
        4: ("Why not two key pairs for everything", "RSA is far slower than AES"),
        5: ("Hybrid without certificates: 偷梁换柱", "the attacker gets key X; nobody notices"),
        6: ("Certificate + signature vs 偷梁换柱", "rejected: digest T ≠ S, key X never sent"),
        7: ("A tampered certificate", "rejected by the signature (T ≠ S)"),
        8: (
            "The chain of trust",
            "leaf ← intermediate ← a root in the store, each signature T = S",
        ),
        9: (
            "A genuine certificate for another name (证书调包)",
            "rejected: the name does not match",
        ),
        10: ("The attacker's own CA", "rejected: unknown CA"),
        11: (
            "A rogue root installed on your computer",
            "the attack succeeds: no absolute security",
        ),
        12: ("Changing, replaying, cutting the data", "each one detected"),
        13: ("The whole six-step flow", "the honest handshake, step by step"),
        14: (
            "Recorded today, opened the day B− leaks (forward secrecy)",
            "a leaked B− opens the old recording: toytls/1 has no forward secrecy",
        ),
    },
    "zh": {
        1: ("明文 HTTP：路上的人能看也能改", "中间人看到并改掉内容，双方都没察觉"),
        2: ("只用对称加密", "谁看到密钥X 在路上传过，谁就能读一切"),
        3: ("只用一对非对称密钥", "拿到公钥B+ 的人都能读服务器的回复"),
        4: ("为什么不全程用两对公私钥", "RSA 比 AES 慢得多"),
        5: ("混合加密但没有证书：偷梁换柱", "中间人拿到密钥X，双方都不知道"),
        6: ("数字证书 + 数字签名 对抗偷梁换柱", "被拒绝：摘要T ≠ 摘要S，密钥X 根本不会发出"),
        7: ("被篡改的数字证书", "数字签名对不上（T ≠ S），被拒绝"),
        8: ("证书信任链", "服务器证书 ← 中间证书 ← 信任库里的根证书，每个数字签名都是 T = S"),
        9: ("另一个域名的合法证书（证书调包）", "被拒绝：域名对不上"),
        10: ("中间人自己的 CA", "被拒绝：不受信任的 CA"),
        11: ("你的电脑被装上了攻击者的根证书", "攻击成功：没有绝对的安全"),
        12: ("篡改、重放、截断数据", "每一种都会被发现"),
        13: ("完整的六步流程", "没有被动手脚的握手，一步一步"),
        14: (
            "今天录下，私钥B− 泄露那天再解开（前向安全）",
            "泄露的私钥B− 能解开旧录音：toytls/1 没有前向安全",
        ),
    },
}

#: Narration lines, by key; ``{name}`` fields are filled in by the demo.
LINES: dict[str, dict[str, str]] = {
    "en": {
        "pki": "Making the PKI (root CA, intermediate, server, attacker) in {where} …",
        "report_written": "report: {path}",
        "report_failed": "cannot write {path}: {why}",
        "plain_setup": "A plaintext server, an attacker in the middle who only watches, a client.",
        "plain_seen": "the attacker read: {text!r}",
        "plain_rewrite": "Again, but now the attacker changes '{old}' to '{new}' on the way:",
        "plain_changed": "the client got {text!r}, and cannot tell it was changed",
        "sym_setup": "The client makes one AES key X for both sides, and must first send it to the "
        "server, in clear; a proxy between them only watches (toytls proxy --mode watch):",
        "sym_wire": "the client sent key X, then the letter locked with X; the server sent it back "
        "locked with X. The eavesdropper relayed {up} bytes to the server and {down} back.",
        "sym_key": "key X, copied off the wire: {key}",
        "sym_read": "the eavesdropper opens the ciphertext with the copied X: {text!r}",
        "asym_setup": "The server has one key pair. It sends B+ to everyone who asks; the client "
        "locks its letter with B+, the server locks its reply with B−. A proxy between them "
        "only watches:",
        "asym_wire": "the eavesdropper relayed {up} bytes to the server and {down} back, B+ among them",
        "asym_closed": "the client's letter, locked with B+, stays closed to him: only B− opens it",
        "asym_read": "but anyone with B+ opens the server's reply: {text!r}",
        "speed": "On this machine, one {size}-byte message: RSA {rsa:.0f} µs, AES-GCM {aes:.1f} µs",
        "speed_ratio": "RSA is {ratio:.0f}× slower: so RSA only carries key X, once, and AES does the rest",
        "swap_setup": "The attacker swaps the server's public key B+ for his own M+ (偷梁换柱) … "
        "(the article names his pair B+/B− and the server's A+/A−; here B+/B− is always the "
        "real server's and M+/M− the man in the middle's)",
        "no_check": "… and the client does not check certificates.",
        "stolen_key": "the attacker decrypted key X with his private key M−: {key}",
        "stolen_text": "the attacker reads: {text!r}",
        "unnoticed": "the client got its reply and noticed nothing",
        "check": "… and the client checks the certificate's signature.",
        "digests": "digest S (computed) = {s}   digest T (from the signature) = {t}",
        "rejected": "rejected ({alert}): {reason}",
        "no_key_sent": "key X never left the client",
        "tamper_setup": "The attacker changes one letter of the name inside the signed part.",
        "chain_setup": "The honest server. The client walks the chain up to a root it already trusts:",
        "chain_link": "{subject}  ← signed by {issuer}: T = S {ok}",
        "chain_root": "{subject}: a root in the client's own trust store — trusted for being there, not for its self-signature",
        "chain_ok": "every link holds, and the name matches: the server's B+ is genuine",
        "swapcert_setup": "The attacker shows his own genuine certificate, issued by the same CA for attacker.test.",
        "ownca_setup": "The attacker issues a certificate for the name from his own root CA (like mitmproxy).",
        "rogue_setup": "Same attack, but someone installed the attacker's root on the client's computer.",
        "data_setup": "The handshake is honest; now the attacker works on the data records.",
        "data_case": "{what}: {outcome}",
        "flow_setup": "The honest run again, in the article's six steps:",
        "fs_setup": "The honest server and a verifying client; between them a proxy that only "
        "watches, and records every byte it relays (toytls proxy --pcap).",
        "fs_recorded": "recorded {size} bytes, {records} records; without a key {sealed} of them "
        "stay sealed, and the letter is nowhere in the bytes",
        "fs_sealed": "the letter, as the recording holds it: {cipher} (ciphertext)",
        "fs_leak": "Months later the server's private key B− leaks: a stolen backup, an old "
        "server sold with its disk unwiped. Decode the old recording with it (toytls decode --key):",
        "fs_key": "B− opens the recorded ClientKeyExchange: key X = {key}",
        "fs_read": "and the old recording reads: {text!r}",
        "fs_lesson": "Why TLS 1.3 made this impossible: here key X travels locked with the "
        "server's long-term B+ (key transport), so whoever gets B− later opens every recording "
        "made under it. TLS 1.3 removed RSA key transport: each connection makes its key X from "
        "fresh ephemeral (EC)DHE key shares that both sides throw away afterwards, and the "
        "server's private key only signs the handshake (CertificateVerify) to prove who it is. "
        "A thief with a stolen private key can impersonate the server from then on, but no key X "
        "was ever encrypted with it, so old recordings stay closed: forward secrecy.",
        "table": "scenario / predicted / happened",
        "all_ok": "Every scenario behaved as the article predicts.",
        "some_bad": "Some scenarios did not behave as predicted.",
        "real_tls": "Real TLS today: TLS 1.3 removed RSA key transport. Key X now comes from "
        "fresh (EC)DHE key shares, and the server's private key only signs the handshake "
        "(CertificateVerify), so a stolen private key does not open old recordings (forward "
        "secrecy; scenario 14 shows toytls/1 without it). Getting digest T back out of a "
        "signature works only for RSA PKCS#1 v1.5: an ECDSA signature is verified, not opened.",
        "wire_tcp": "ran over TCP on 127.0.0.1, all in this one process: {paths}",
        "wire_memory": "ran in memory, no sockets: both were timed in this process",
        "pause": "(Enter for scenario {number}: {title})",
        "list": "the scenarios (run one with --only N):",
    },
    "zh": {
        "report_written": "报告已写入：{path}",
        "report_failed": "无法写入 {path}：{why}",
        "pki": "正在生成 PKI（根证书、中间证书、服务器证书、攻击者的密钥和证书），目录：{where} …",
        "plain_setup": "一个明文服务器，一个只看不动的中间人，一个客户端。",
        "plain_seen": "中间人看到了：{text!r}",
        "plain_rewrite": "再来一次，这回中间人把“{old}”改成“{new}”：",
        "plain_changed": "客户端收到 {text!r}，完全不知道被改过",
        "sym_setup": "客户端生成一个 AES 密钥X 给双方共用，可是 X 得先明文发给服务器；"
        "中间有个只看不动的中间人（toytls proxy --mode watch）：",
        "sym_wire": "客户端先发出密钥X，再发出用 X 锁住的信；服务器用 X 锁住原样发回。"
        "窃听者转发了 {up} 字节给服务器、{down} 字节给客户端。",
        "sym_key": "从线路上抄下的密钥X：{key}",
        "sym_read": "窃听者用抄来的 X 解开密文：{text!r}",
        "asym_setup": "服务器只有一对密钥。谁来问，它就把公钥B+ 发给谁；客户端用 B+ 锁住信，"
        "服务器用私钥B− 锁住回复。中间有个只看不动的中间人：",
        "asym_wire": "窃听者转发了 {up} 字节给服务器、{down} 字节给客户端，公钥B+ 也在其中",
        "asym_closed": "客户端用 B+ 锁住的信，他打不开：只有私钥B− 能打开",
        "asym_read": "可是任何拿到 B+ 的人都能打开服务器的回复：{text!r}",
        "speed": "在这台机器上，一条 {size} 字节的消息：RSA {rsa:.0f} 微秒，AES-GCM {aes:.1f} 微秒",
        "speed_ratio": "RSA 慢了 {ratio:.0f} 倍：所以 RSA 只用一次，用来送密钥X，其余交给 AES",
        "swap_setup": "中间人把服务器的公钥B+ 换成自己的公钥M+（偷梁换柱）……"
        "（文章里中间人的一对叫 B+/B−，服务器的叫 A+/A−；这里 B+/B− 始终是真服务器的，"
        "M+/M− 是中间人的）",
        "no_check": "……而客户端不检查证书。",
        "stolen_key": "中间人用自己的私钥M− 解出了密钥X：{key}",
        "stolen_text": "中间人读到：{text!r}",
        "unnoticed": "客户端照常收到回复，什么也没发现",
        "check": "……这次客户端检查证书的数字签名。",
        "digests": "摘要S（自己算的）= {s}   摘要T（从数字签名解出的）= {t}",
        "rejected": "拒绝（{alert}）：{reason}",
        "no_key_sent": "密钥X 从未离开客户端",
        "tamper_setup": "中间人把数字证书明文数据里的域名改了一个字母。",
        "chain_setup": "正常的服务器（中间没有攻击者）。客户端沿着信任链一直验证到本地已有的根证书：",
        "chain_link": "{subject}  ← 由 {issuer} 签名：T = S {ok}",
        "chain_root": "{subject}：客户端信任库里本来就有的根证书——信任它是因为它在信任库里，不是因为它的自签名",
        "chain_ok": "每一环都成立，域名也对得上：服务器的公钥B+ 是真的",
        "swapcert_setup": "中间人拿出自己的合法证书——同一个 CA 给 attacker.test 签发的。",
        "ownca_setup": "中间人用自己的根证书当场签发这个域名的证书（像 mitmproxy 那样）。",
        "rogue_setup": "同样的攻击，但有人在客户端电脑上装了攻击者的根证书。",
        "data_setup": "握手没有被动手脚；现在中间人对数据记录下手。",
        "data_case": "{what}：{outcome}",
        "flow_setup": "再走一遍正常的流程（中间没有攻击者），按文章的六个步骤：",
        "fs_setup": "正常的服务器和会验证证书的客户端；中间有个只看不动的中间人，"
        "把经过的每个字节都录下来（toytls proxy --pcap）。",
        "fs_recorded": "录下了 {size} 字节、{records} 条记录；没有密钥，其中 {sealed} 条打不开，"
        "信的内容在这些字节里找不到",
        "fs_sealed": "录音里这封信的样子：{cipher}（密文）",
        "fs_leak": "几个月后，服务器的私钥B− 泄露了：备份被偷，或者旧服务器没擦硬盘就卖掉了。"
        "用它来解旧录音（toytls decode --key）：",
        "fs_key": "私钥B− 解开了录下的 ClientKeyExchange：密钥X = {key}",
        "fs_read": "旧录音就这样读出来了：{text!r}",
        "fs_lesson": "为什么 TLS 1.3 让这件事不可能：这里密钥X 是用服务器长期的公钥B+ "
        "锁住送过去的（密钥传输），所以日后谁拿到私钥B−，谁就能打开之前录下的每一段。"
        "TLS 1.3 取消了 RSA 密钥传输：每个连接都用临时的 (EC)DHE 密钥交换现算出密钥X，"
        "用完双方就扔掉；服务器的私钥只用来给握手做数字签名（CertificateVerify），证明自己是谁。"
        "私钥被偷，小偷从此可以冒充服务器，但从来没有哪个密钥X 是用它加密的，"
        "旧录音依然打不开：这就是前向安全。",
        "table": "场景 / 预期 / 实际",
        "all_ok": "每个场景都和文章预言的一样。",
        "some_bad": "有的场景和预期不一样。",
        "real_tls": "今天真正的 TLS：TLS 1.3 取消了 RSA 密钥传输。密钥X 由每次新生成的 (EC)DHE "
        "密钥交换算出，服务器的私钥只给握手签名（CertificateVerify），所以私钥被偷也解不开"
        "旧录音（前向安全；场景 14 演示了没有它的 toytls/1）。“从数字签名解出摘要T”只适用于 "
        "RSA PKCS#1 v1.5：ECDSA 签名只能验证，解不出摘要。",
        "wire_tcp": "经由 127.0.0.1 上真实的 TCP 连接，全在这一个进程里：{paths}",
        "wire_memory": "只在内存里运行，没有用套接字：两种算法都在这个进程里计时",
        "pause": "（按回车进入场景 {number}：{title}）",
        "list": "各个场景（用 --only N 只运行其中一个）：",
    },
}

#: The three data attacks of scenario 12.
DATA_ATTACKS: dict[str, dict[str, str]] = {
    "en": {
        "flip": "one bit flipped",
        "replay": "a record replayed",
        "truncate": "cut without close_notify",
    },
    "zh": {
        "flip": "翻转一个比特",
        "replay": "重放一条记录",
        "truncate": "不发 close_notify 直接断开",
    },
}

#: What scenario 12 says when an attack on the data is detected ("{error}": the
#: client's own error), and when it is not.
DATA_DETECTED: dict[str, dict[str, str]] = {
    "en": {"flip": "{error}", "replay": "{error}", "truncate": "{error}", "missed": "NOT detected"},
    "zh": {
        "flip": "被发现了，这条记录解密失败（bad_record_mac）：它在路上被改过",
        "replay": "被发现了，这条记录解密失败（bad_record_mac）：它是重放的旧记录",
        "truncate": "被发现了，连接没有 close_notify 就断了（截断）：收到的数据可能不完整",
        "missed": "没有被发现",
    },
}

#: The pieces of the "wire_tcp" line: one connection straight to a server, one
#: through a proxy, and what joins them.
WIRE_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "direct": "client → server :{port}",
        "proxied": "client → proxy :{port} → server :{upstream}",
        "and": "; ",
    },
    "zh": {
        "direct": "客户端 → 服务器 :{port}",
        "proxied": "客户端 → 中间人 :{port} → 服务器 :{upstream}",
        "and": "；",
    },
}

#: The letter from the article's story, and what the attacker changes in it.
LETTER: dict[str, tuple[str, str, str]] = {
    "en": ("Happy birthday, darling! See you tonight at eight.", "eight", "nine"),
    "zh": ("生日快乐！亲爱的，今晚八点见。", "八点", "九点"),
}

#: Why a lesson or the recording went otherwise than predicted (the
#: "{why}" of HAPPENED), when it is not an error with words of its own.
WHY: dict[str, dict[str, str]] = {
    "en": {
        "bytes_differ": "the client counted {sent}/{received} bytes, "
        "the eavesdropper relayed {up}/{down}",
        "no_reply": "the client got no reply",
        "unread": "the eavesdropper could not read it",
        "opened_without_key": "opened without a key",
        "leak_failed": "B− did not open it",
    },
    "zh": {
        "bytes_differ": "客户端算的是发出 {sent}、收到 {received} 字节，"
        "窃听者转发的是 {up}/{down} 字节",
        "no_reply": "客户端没有收到回复",
        "unread": "窃听者读不出来",
        "opened_without_key": "没有密钥也打开了",
        "leak_failed": "私钥B− 没能打开它",
    },
}

#: Short "what happened" notes for the final table.
HAPPENED: dict[str, dict[str, str]] = {
    "en": {
        "plain": "read it, and changed {old} → {new}",
        "sym": "the eavesdropper copied X off the wire and read the letter",
        "asym": "the eavesdropper opened the reply with B+",
        "lesson_off": "not as predicted: {why}",
        "speed": "RSA {ratio:.0f}× slower",
        "stolen": "the attacker read the letter",
        "not_stolen": "the attack did not work: {why}",
        "not_rejected": "not rejected: {why}",
        "chain": "intermediate and leaf T = S, up to a root in the store",
        "data": "flip, replay, truncate: all detected",
        "flow": "all six steps, reply received",
        "secrecy": "sealed without a key; the leaked B− opened the old recording",
        "not_opened": "the recording did not behave as predicted: {why}",
        "crashed": "failed to run: {why}",
    },
    "zh": {
        "plain": "看到了，还把“{old}”改成了“{new}”",
        "sym": "窃听者从线路上抄下 X，读到了信",
        "asym": "窃听者用公钥B+ 打开了回复",
        "lesson_off": "和预期不一样：{why}",
        "speed": "RSA 慢 {ratio:.0f} 倍",
        "stolen": "中间人读到了信",
        "not_stolen": "攻击没有成功：{why}",
        "not_rejected": "没有被拒绝：{why}",
        "chain": "中间证书和服务器证书都是 T = S，一直连到信任库里的根证书",
        "data": "翻转、重放、截断：全部被发现",
        "flow": "六步都走完，收到回复",
        "secrecy": "没有密钥打不开；泄露的私钥B− 解开了旧录音",
        "not_opened": "录音和预期不一样：{why}",
        "crashed": "没能运行：{why}",
    },
}
