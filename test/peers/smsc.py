#!/usr/bin/env python3
"""A small SMPP 3.4 SMSC for tests, written without any smsgate code (Python 3 stdlib only).

Usage: smsc.py [--system-id ID] [--password PW] [--id-style STYLE] [--resp-delay MS]
               [--receipts] [--noop] [--enquire-interval S] [--tls-cert PEM --tls-key PEM]
Prints one line `LISTEN <smpp port> CONTROL <control port>` on stdout once both listen (port 0).

The control port takes one JSON object per line and answers one JSON line:
  {"cmd":"stats"}                                   counters (see Smsc.stats)
  {"cmd":"set", ...}                                any of: password, system_id, id_style,
                                                    resp_delay_ms, receipts, receipt_stat
  {"cmd":"throttle","count":N,"status":0x58}        answer the next N submit_sm with this status
  {"cmd":"reject","count":N,"status":0x0B}          same, meant for permanent errors
  {"cmd":"cut_after","count":N}                     close every session on the N-th next submit_sm
                                                    (without answering it or anything unanswered)
  {"cmd":"mo", "from":..,"to":..,"coding":"gsm"|"ucs2"|"binary",
        "text":..|"hex":.., "udh":"hex", "sar":[ref,total,seq], "data_sm":false}
  {"cmd":"receipt","id":..,"stat":"DELIVRD"}        a receipt for a message id we gave out
  {"cmd":"submits"}                                 every submit_sm received (decoded)
  {"cmd":"close"}                                   close every SMPP session now

ID styles (what submit_sm_resp says / what the receipt says):
  same: "<n>" / "<n>"     hex: "1A2B" / decimal     dec: "6699" / hex lower-case
  hexpad: "00001A2B" / "1a2b"     tlv: hex / receipted_message_id TLV (text id garbage)
"""

import argparse
import asyncio
import json
import struct
import sys
import time

GSM = ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
       "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM_EXT = {0x0A: "\f", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\", 0x3C: "[", 0x3D: "~",
           0x3E: "]", 0x40: "|", 0x65: "€"}
GSM_REV = {c: i for i, c in enumerate(GSM)}
GSM_EXT_REV = {c: i for i, c in GSM_EXT.items()}


def gsm_decode(b):
    out, esc = [], False
    for x in b:
        if esc:
            out.append(GSM_EXT.get(x, "?"))
            esc = False
        elif x == 0x1B:
            esc = True
        else:
            out.append(GSM[x] if x < len(GSM) else "?")
    return "".join(out)


def gsm_encode(s):
    out = bytearray()
    for ch in s:
        if ch in GSM_REV:
            out.append(GSM_REV[ch])
        elif ch in GSM_EXT_REV:
            out += bytes([0x1B, GSM_EXT_REV[ch]])
        else:
            out.append(GSM_REV["?"])
    return bytes(out)


def cstr(b, off):
    end = b.index(0, off)
    return b[off:end].decode("latin-1"), end + 1


def tlvs(b, off):
    out = {}
    while off + 4 <= len(b):
        tag, ln = struct.unpack_from(">HH", b, off)
        out[tag] = b[off + 4:off + 4 + ln]
        off += 4 + ln
    return out


def c(s):
    return s.encode("latin-1") + b"\0"


STATUS_NAMES = {0x0E: "ESME_RINVPASWD", 0x0F: "ESME_RINVSYSID", 0x58: "ESME_RTHROTTLED", 0x14: "ESME_RMSGQFUL"}


class Session:
    def __init__(self, smsc, reader, writer):
        self.smsc, self.reader, self.writer = smsc, reader, writer
        self.mode = None  # 'tx' | 'rx' | 'trx'
        self.system_id = None
        self.seq = 0
        self.pending = {}  # seq -> future for our own requests (deliver_sm, enquire_link)
        self.unanswered = 0
        self.closed = False

    def next_seq(self):
        self.seq = self.seq % 0x7FFFFFFF + 1
        return self.seq

    def send(self, cmd, status, seq, body=b""):
        if self.closed:
            return
        self.writer.write(struct.pack(">IIII", 16 + len(body), cmd, status, seq) + body)

    async def request(self, cmd, body, timeout=10):
        seq = self.next_seq()
        fut = asyncio.get_running_loop().create_future()
        self.pending[seq] = fut
        self.send(cmd, 0, seq, body)
        try:
            return await asyncio.wait_for(fut, timeout)
        finally:
            self.pending.pop(seq, None)

    def close(self):
        if not self.closed:
            self.closed = True
            try:
                self.writer.transport.abort()
            except Exception:
                pass

    async def run(self):
        s = self.smsc
        try:
            while True:
                head = await self.reader.readexactly(16)
                ln, cmd, status, seq = struct.unpack(">IIII", head)
                if ln < 16 or ln > 70000:
                    s.counters["garbage"] += 1
                    break
                body = await self.reader.readexactly(ln - 16)
                if cmd & 0x80000000:
                    fut = self.pending.get(seq)
                    if fut and not fut.done():
                        fut.set_result((cmd, status, body))
                    continue
                await self.handle(cmd, seq, body)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.closed = True
            if self in s.sessions:
                s.sessions.remove(self)
            try:
                self.writer.close()
            except Exception:
                pass

    async def handle(self, cmd, seq, body):
        s = self.smsc
        if cmd in (0x1, 0x2, 0x9):
            mode = {0x1: "rx", 0x2: "tx", 0x9: "trx"}[cmd]
            sid, off = cstr(body, 0)
            pw, off = cstr(body, off)
            st, off = cstr(body, off)
            s.counters["bind_attempts"] += 1
            ok = (s.system_id is None or sid == s.system_id) and (s.password is None or pw == s.password)
            s.binds.append({"mode": mode, "system_id": sid, "system_type": st, "ok": ok, "at": time.time()})
            if not ok:
                status = 0x0F if (s.system_id is not None and sid != s.system_id) else 0x0E
                self.send(cmd | 0x80000000, status, seq, b"")
                await self.writer.drain()
                self.close()
                return
            self.mode, self.system_id = mode, sid
            self.send(cmd | 0x80000000, 0, seq, c("testsmsc"))
            return
        if cmd == 0x15:  # enquire_link
            s.counters["enquire_links"] += 1
            self.send(0x80000015, 0, seq)
            return
        if cmd == 0x6:  # unbind
            s.counters["unbinds"] += 1
            self.send(0x80000006, 0, seq)
            await self.writer.drain()
            self.close()
            return
        if cmd == 0x4:
            await self.submit(seq, body)
            return
        self.send(0x80000000, 0x3, seq)  # generic_nack ESME_RINVCMDID

    async def submit(self, seq, body):
        s = self.smsc
        s.counters["submits"] += 1
        if self.mode not in ("tx", "trx"):
            self.send(0x80000004, 0x4, seq, b"")  # ESME_RINVBNDSTS
            return
        if s.cut_after is not None:
            s.cut_after -= 1
            if s.cut_after <= 0:
                s.cut_after = None
                s.counters["cuts"] += 1
                if not s.noop:
                    s.record(body, self)  # it reached us: a resend of it is a duplicate
                for x in list(s.sessions):
                    x.close()
                return
        if s.throttle_count > 0:
            s.throttle_count -= 1
            s.counters["throttled"] += 1
            self.send(0x80000004, s.throttle_status, seq, b"")
            return
        if s.noop:
            s.next_id += 1
            self.send(0x80000004, 0, seq, c(str(s.next_id)))
            return
        rec = s.record(body, self)
        if s.resp_delay > 0:
            self.unanswered += 1
            s.max_outstanding = max(s.max_outstanding, sum(x.unanswered for x in s.sessions))
            asyncio.get_running_loop().call_later(s.resp_delay, self.answer, seq, rec)
        else:
            self.answer(seq, rec, False)

    def answer(self, seq, rec, delayed=True):
        s = self.smsc
        if delayed:
            self.unanswered -= 1
        if self.closed:
            rec["answered"] = False
            return
        self.send(0x80000004, 0, seq, c(rec["resp_id"]))
        rec["answered"] = True
        if s.receipts and rec["registered_delivery"] & 1:
            asyncio.get_running_loop().call_later(0.02, lambda: asyncio.ensure_future(s.receipt(rec, s.receipt_stat)))


class Smsc:
    def __init__(self, a):
        self.system_id, self.password = a.system_id, a.password
        self.id_style, self.resp_delay = a.id_style, a.resp_delay / 1000
        self.receipts, self.receipt_stat, self.noop = a.receipts, "DELIVRD", a.noop
        self.enquire_interval = a.enquire_interval
        self.sessions, self.binds, self.submits_list = [], [], []
        self.counters = {k: 0 for k in ("bind_attempts", "enquire_links", "unbinds", "submits", "throttled",
                                        "cuts", "receipts_sent", "receipts_acked", "mo_sent", "mo_acked",
                                        "garbage")}
        self.keys = {}
        self.by_id = {}
        self.next_id = 0x1A2B00
        self.throttle_count, self.throttle_status = 0, 0x58
        self.cut_after = None
        self.max_outstanding = 0

    def ids(self):
        self.next_id += 1
        n = self.next_id
        st = self.id_style
        if st == "same":
            return str(n), str(n)
        if st == "hex":
            return "%X" % n, str(n)
        if st == "dec":
            return str(n), "%x" % n
        if st == "hexpad":
            return "%08X" % n, "%x" % n
        if st == "tlv":
            return "%X" % n, "%X" % n
        raise ValueError(st)

    def record(self, body, session):
        off = 0
        service_type, off = cstr(body, off)
        src_ton, src_npi = body[off], body[off + 1]
        src, off = cstr(body, off + 2)
        dst_ton, dst_npi = body[off], body[off + 1]
        dst, off = cstr(body, off + 2)
        esm, pid, prio = body[off], body[off + 1], body[off + 2]
        off += 3
        sched, off = cstr(body, off)
        validity, off = cstr(body, off)
        reg, repl, dc, defid, sml = body[off], body[off + 1], body[off + 2], body[off + 3], body[off + 4]
        off += 5
        sm = body[off:off + sml]
        t = tlvs(body, off + sml)
        payload = t.get(0x0424, b"")
        data = sm or payload
        udh = b""
        if esm & 0x40 and data:
            udh, data = data[:data[0] + 1], data[data[0] + 1:]
        if dc == 8:
            text = data.decode("utf-16-be", "replace")
        elif dc in (0, 1):
            text = gsm_decode(data)
        else:
            text = data.hex()
        key = (dst, udh.hex(), dc, data.hex(), str(t.get(0x020C, b"").hex()), str(t.get(0x020F, b"").hex()))
        self.keys[key] = self.keys.get(key, 0) + 1
        resp_id, receipt_id = self.ids()
        rec = {"src": src, "src_ton": src_ton, "src_npi": src_npi, "dst": dst, "dst_ton": dst_ton,
               "dst_npi": dst_npi, "esm_class": esm, "priority": prio, "validity": validity,
               "registered_delivery": reg, "data_coding": dc, "udh": udh.hex(), "text": text,
               "sar": [int.from_bytes(t[k], "big") for k in (0x020C, 0x020E, 0x020F) if k in t],
               "payload": 0x0424 in t, "resp_id": resp_id, "receipt_id": receipt_id,
               "system_id": session.system_id, "mode": session.mode, "service_type": service_type}
        self.by_id[resp_id] = rec
        self.submits_list.append(rec)
        return rec

    def receiver(self, system_id=None):
        for x in self.sessions:
            if x.mode in ("rx", "trx") and not x.closed and (system_id is None or x.system_id == system_id):
                return x
        return None

    async def deliver(self, cmd, body, system_id=None):
        x = self.receiver(system_id)
        if x is None:
            return {"error": "no receiver bound"}
        try:
            _c, status, _b = await x.request(cmd, body)
        except asyncio.TimeoutError:
            return {"error": "no answer"}
        return {"status": status}

    async def receipt(self, rec, stat):
        now = time.strftime("%y%m%d%H%M")
        style = self.id_style
        text_id = "ffffffff" if style == "tlv" else rec["receipt_id"]
        text = "id:%s sub:001 dlvrd:%03d submit date:%s done date:%s stat:%s err:000 text:%s" % (
            text_id, 1 if stat == "DELIVRD" else 0, now, now, stat, rec["text"][:20])
        body = c("") + bytes([rec["dst_ton"], rec["dst_npi"]]) + c(rec["dst"]) + bytes([rec["src_ton"], rec["src_npi"]])
        body += c(rec["src"]) + bytes([0x04, 0, 0]) + c("") + c("") + bytes([0, 0, 0, 0])
        sm = text.encode("latin-1", "replace")
        body += bytes([len(sm)]) + sm
        if style == "tlv":
            rid = rec["receipt_id"].encode() + b"\0"
            state = {"DELIVRD": 2, "EXPIRED": 3, "UNDELIV": 5, "REJECTD": 8, "ACCEPTD": 6}.get(stat, 7)
            body += struct.pack(">HH", 0x001E, len(rid)) + rid + struct.pack(">HHB", 0x0427, 1, state)
        self.counters["receipts_sent"] += 1
        r = await self.deliver(0x5, body, rec["system_id"])
        if r.get("status") == 0:
            self.counters["receipts_acked"] += 1
        return r

    async def mo(self, m):
        coding = m.get("coding", "gsm")
        if coding == "gsm":
            data, dc = gsm_encode(m["text"]), 0
        elif coding == "ucs2":
            data, dc = m["text"].encode("utf-16-be"), 8
        else:
            data, dc = bytes.fromhex(m["hex"]), 4
        esm = 0
        if m.get("udh"):
            data = bytes.fromhex(m["udh"]) + data
            esm = 0x40
        extra = b""
        if m.get("sar"):
            ref, total, seq = m["sar"]
            extra = struct.pack(">HHH", 0x020C, 2, ref) + struct.pack(">HHB", 0x020E, 1, total)
            extra += struct.pack(">HHB", 0x020F, 1, seq)
        src, dst = m["from"], m["to"]
        ston = (1, 1) if src.isdigit() and len(src) > 8 else (5, 0) if not src.isdigit() else (0, 1)
        if m.get("data_sm"):
            body = c("") + bytes([ston[0], ston[1]]) + c(src) + bytes([1, 1]) + c(dst) + bytes([esm, 0, dc])
            body += struct.pack(">HH", 0x0424, len(data)) + data + extra
            cmd = 0x103
        else:
            body = c("") + bytes([ston[0], ston[1]]) + c(src) + bytes([1, 1]) + c(dst) + bytes([esm, 0, 0])
            body += c("") + c("") + bytes([0, 0, dc, 0, len(data)]) + data + extra
            cmd = 0x5
        self.counters["mo_sent"] += 1
        r = await self.deliver(cmd, body, m.get("system_id"))
        if r.get("status") == 0:
            self.counters["mo_acked"] += 1
        return r

    def stats(self):
        dup = sum(n - 1 for n in self.keys.values() if n > 1)
        return {**self.counters, "binds": self.binds, "bound": [{"mode": x.mode, "system_id": x.system_id}
                                                                for x in self.sessions if x.mode],
                "unique": len(self.keys), "duplicates": dup, "max_outstanding": self.max_outstanding}

    async def control(self, reader, writer):
        while True:
            line = await reader.readline()
            if not line:
                break
            try:
                m = json.loads(line)
                out = await self.command(m)
            except Exception as e:  # noqa: BLE001 - a test helper answers every error
                out = {"error": repr(e)}
            writer.write((json.dumps(out) + "\n").encode())
            await writer.drain()
        writer.close()

    async def command(self, m):
        cmd = m["cmd"]
        if cmd == "stats":
            return self.stats()
        if cmd == "submits":
            return {"submits": self.submits_list}
        if cmd == "set":
            for k in ("password", "system_id", "id_style", "receipts", "receipt_stat"):
                if k in m:
                    setattr(self, k, m[k])
            if "resp_delay_ms" in m:
                self.resp_delay = m["resp_delay_ms"] / 1000
            return {"ok": True}
        if cmd in ("throttle", "reject"):
            self.throttle_count, self.throttle_status = m["count"], m.get("status", 0x58)
            return {"ok": True}
        if cmd == "cut_after":
            self.cut_after = m["count"]
            return {"ok": True}
        if cmd == "mo":
            return await self.mo(m)
        if cmd == "receipt":
            rec = self.by_id.get(m["id"])
            if rec is None:
                return {"error": "unknown id"}
            return await self.receipt(rec, m.get("stat", "DELIVRD"))
        if cmd == "close":
            for x in list(self.sessions):
                x.close()
            return {"ok": True}
        return {"error": "unknown command"}

    async def on_smpp(self, reader, writer):
        sess = Session(self, reader, writer)
        self.sessions.append(sess)
        if self.enquire_interval > 0:
            asyncio.ensure_future(self.enquire_loop(sess))
        await sess.run()

    async def enquire_loop(self, sess):
        while not sess.closed:
            await asyncio.sleep(self.enquire_interval)
            if sess.closed or not sess.mode:
                continue
            try:
                await sess.request(0x15, b"", 5)
            except Exception:  # noqa: BLE001
                pass


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--system-id", default=None)
    p.add_argument("--password", default=None)
    p.add_argument("--id-style", default="hex", choices=["same", "hex", "dec", "hexpad", "tlv"])
    p.add_argument("--resp-delay", type=float, default=0, help="milliseconds before each submit_sm_resp")
    p.add_argument("--receipts", action="store_true")
    p.add_argument("--noop", action="store_true", help="answer submits at once, store nothing (bench)")
    p.add_argument("--enquire-interval", type=float, default=0)
    p.add_argument("--tls-cert", default=None, help="PEM certificate: SMPP over TLS (smpps)")
    p.add_argument("--tls-key", default=None)
    a = p.parse_args()
    smsc = Smsc(a)
    ctx = None
    if a.tls_cert:
        import ssl
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.tls_cert, a.tls_key)
    srv = await asyncio.start_server(smsc.on_smpp, "127.0.0.1", 0, ssl=ctx)
    ctl = await asyncio.start_server(smsc.control, "127.0.0.1", 0)
    print("LISTEN %d CONTROL %d" % (srv.sockets[0].getsockname()[1], ctl.sockets[0].getsockname()[1]), flush=True)
    async with srv, ctl:
        await asyncio.gather(srv.serve_forever(), ctl.serve_forever())


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
