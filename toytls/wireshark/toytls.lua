-- toytls/1 for Wireshark and tshark: records, handshake messages and alerts.
--
-- Shipped with toytls; `toytls wireshark` prints where this file is. Load it
-- with `wireshark -X lua_script:PATH` (or `tshark -X lua_script:PATH`), or
-- copy it into the personal Lua plugins folder (Help > About Wireshark >
-- Folders). The protocol is registered on TCP port 4433; for another port use
-- Analyze > Decode As (or `-d tcp.port==8443,toytls`).
--
-- The wire format is docs/protocol.md of toytls. Records split across TCP
-- segments are put back together (dissect_tcp_pdus). The dissector holds no
-- keys: a protected record is shown as ciphertext and tag. A record is taken
-- for a plaintext handshake message when its first byte is a known message
-- type and its 3-byte length is the record's length minus 4, and for a
-- plaintext alert when it is exactly 2 bytes (a protected one is 18).

local toytls = Proto("toytls", "toytls/1")

local CONTENT_TYPES = { [21] = "alert", [22] = "handshake", [23] = "application_data" }
local HANDSHAKE_TYPES = {
    [1] = "ClientHello",
    [2] = "ServerHello",
    [11] = "Certificate",
    [16] = "ClientKeyExchange",
    [20] = "Finished",
}
local ALERT_LEVELS = { [1] = "warning", [2] = "fatal" }
local ALERT_DESCRIPTIONS = {
    [0] = "close_notify",
    [10] = "unexpected_message",
    [20] = "bad_record_mac",
    [22] = "record_overflow",
    [42] = "bad_certificate",
    [45] = "certificate_expired",
    [47] = "illegal_parameter",
    [48] = "unknown_ca",
    [50] = "decode_error",
    [51] = "decrypt_error",
    [70] = "protocol_version",
    [80] = "internal_error",
    [112] = "unrecognized_name",
}
local HEADER_SIZE = 5
local TAG_SIZE = 16

local f = toytls.fields
f.record_type = ProtoField.uint8("toytls.record.type", "Content type", base.DEC, CONTENT_TYPES)
f.record_version = ProtoField.uint16("toytls.record.version", "Version", base.HEX)
f.record_length = ProtoField.uint16("toytls.record.length", "Length", base.DEC)
f.record_ciphertext = ProtoField.bytes("toytls.record.ciphertext", "Ciphertext (AES-128-GCM)")
f.record_tag = ProtoField.bytes("toytls.record.tag", "GCM tag")
f.handshake_type = ProtoField.uint8("toytls.handshake.type", "Handshake type", base.DEC,
    HANDSHAKE_TYPES)
f.handshake_length = ProtoField.uint24("toytls.handshake.length", "Length", base.DEC)
f.random = ProtoField.bytes("toytls.handshake.random", "Random")
f.server_name_length = ProtoField.uint8("toytls.server_name_length", "Server name length")
f.server_name = ProtoField.string("toytls.server_name", "Server name")
f.certificates_length = ProtoField.uint24("toytls.handshake.certificates_length",
    "Certificates length")
f.certificate_length = ProtoField.uint24("toytls.handshake.certificate_length",
    "Certificate length")
f.certificate = ProtoField.bytes("toytls.handshake.certificate", "Certificate (DER)")
f.encrypted_secret_length = ProtoField.uint16("toytls.handshake.encrypted_secret_length",
    "Encrypted secret length")
f.encrypted_secret = ProtoField.bytes("toytls.handshake.encrypted_secret",
    "Encrypted secret: key X under B+ (RSA-OAEP)")
f.verify_data = ProtoField.bytes("toytls.handshake.verify_data", "Verify data")
f.alert_level = ProtoField.uint8("toytls.alert.level", "Level", base.DEC, ALERT_LEVELS)
f.alert_description = ProtoField.uint8("toytls.alert.description", "Description", base.DEC,
    ALERT_DESCRIPTIONS)

-- Whether a handshake record's content reads as one plaintext message.
local function is_plain_handshake(tvb, offset, length)
    if length < 4 then return false end
    local msg_type = tvb(offset, 1):uint()
    return HANDSHAKE_TYPES[msg_type] ~= nil and tvb(offset + 1, 3):uint() == length - 4
end

local function dissect_handshake(tvb, offset, length, tree)
    local msg_type = tvb(offset, 1):uint()
    local name = HANDSHAKE_TYPES[msg_type]
    local sub = tree:add(toytls, tvb(offset, length), name)
    sub:add(f.handshake_type, tvb(offset, 1))
    sub:add(f.handshake_length, tvb(offset + 1, 3))
    local body, size = offset + 4, length - 4
    local info = name
    if (msg_type == 1 or msg_type == 2) and size >= 32 then
        sub:add(f.random, tvb(body, 32))
    end
    if msg_type == 1 and size >= 33 then
        local n = tvb(body + 32, 1):uint()
        sub:add(f.server_name_length, tvb(body + 32, 1))
        if size >= 33 + n and n > 0 then
            sub:add(f.server_name, tvb(body + 33, n))
            info = info .. " (" .. tvb(body + 33, n):string() .. ")"
        end
    elseif msg_type == 11 and size >= 3 then
        sub:add(f.certificates_length, tvb(body, 3))
        local pos, stop = body + 3, body + size
        while pos + 3 <= stop do
            local n = tvb(pos, 3):uint()
            sub:add(f.certificate_length, tvb(pos, 3))
            if n == 0 or pos + 3 + n > stop then break end
            sub:add(f.certificate, tvb(pos + 3, n))
            pos = pos + 3 + n
        end
    elseif msg_type == 16 and size >= 2 then
        sub:add(f.encrypted_secret_length, tvb(body, 2))
        if size > 2 then sub:add(f.encrypted_secret, tvb(body + 2, size - 2)) end
    elseif msg_type == 20 and size > 0 then
        sub:add(f.verify_data, tvb(body, size))
    end
    return info
end

local function dissect_protected(tvb, offset, length, tree)
    if length >= TAG_SIZE then
        if length > TAG_SIZE then
            tree:add(f.record_ciphertext, tvb(offset, length - TAG_SIZE))
        end
        tree:add(f.record_tag, tvb(offset + length - TAG_SIZE, TAG_SIZE))
    elseif length > 0 then
        tree:add(f.record_ciphertext, tvb(offset, length))
    end
end

-- One whole record (dissect_tcp_pdus hands over exactly one).
local function dissect_record(tvb, pinfo, tree)
    local content_type = tvb(0, 1):uint()
    local length = tvb(3, 2):uint()
    local kind = CONTENT_TYPES[content_type] or ("type " .. content_type)
    local record = tree:add(toytls, tvb(0, HEADER_SIZE + length), "toytls/1 record: " .. kind)
    record:add(f.record_type, tvb(0, 1))
    record:add(f.record_version, tvb(1, 2))
    record:add(f.record_length, tvb(3, 2))
    local info
    if content_type == 22 and is_plain_handshake(tvb, HEADER_SIZE, length) then
        info = dissect_handshake(tvb, HEADER_SIZE, length, record)
    elseif content_type == 21 and length == 2 then
        record:add(f.alert_level, tvb(HEADER_SIZE, 1))
        record:add(f.alert_description, tvb(HEADER_SIZE + 1, 1))
        local code = tvb(HEADER_SIZE + 1, 1):uint()
        info = "Alert " .. (ALERT_DESCRIPTIONS[code] or tostring(code))
    else
        dissect_protected(tvb, HEADER_SIZE, length, record)
        info = "Protected " .. kind .. " (" .. length .. " bytes)"
    end
    pinfo.cols.protocol = "toytls"
    local previous = tostring(pinfo.cols.info)
    if previous:find("toytls: ", 1, true) == 1 then
        pinfo.cols.info:append(", " .. info)
    else
        pinfo.cols.info:set("toytls: " .. info)
    end
    return HEADER_SIZE + length
end

local function record_length(tvb, _, offset)
    return HEADER_SIZE + tvb(offset + 3, 2):uint()
end

function toytls.dissector(tvb, pinfo, tree)
    if tvb:len() == 0 then return 0 end
    local first = tvb(0, 1):uint()
    if CONTENT_TYPES[first] == nil then return 0 end
    if tvb:len() >= 3 and tvb(1, 2):uint() ~= 0x0100 then return 0 end
    dissect_tcp_pdus(tvb, tree, HEADER_SIZE, record_length, dissect_record, true)
    return tvb:len()
end

local tcp_port = DissectorTable.get("tcp.port")
tcp_port:add(4433, toytls)
if tcp_port.add_for_decode_as then tcp_port:add_for_decode_as(toytls) end
