"""A scriptable peer for the *_scripted_fuzz.py targets.

The fuzz input is a config byte and a list of ops (see _common.encode_ops). The harness
plays the peer: it frames handshake messages, seals every record with the key the
target currently reads with (TLS 1.3 from ``conn.read_secret``, TLS 1.2 from the
master secret), and can produce the values a fuzzer cannot guess -- a correct
Finished, a correctly signed CertificateVerify or ServerKeyExchange, a usable key
exchange share -- so that mutated messages reach the parsers and states *behind* the
encryption and the handshake: EncryptedExtensions, Certificate, CertificateRequest,
CertificateVerify, Finished, NewSessionTicket, KeyUpdate, post-handshake
authentication, alerts and application data, for both roles and both versions.

Ops (op byte modulo 11):
  0 RAW     data goes to the target as it is
  1 REC     data[0] content type, data[1:] content: one record (sealed when keys are set)
  2 HS      data[0] msg type, data[1] framing flags, data[2:] body: a handshake message;
            flags bits 0-2 fragment size (whole, 1, 3, 16, 100 bytes per record), bit 3
            coalesce with the next HS op into the same records
  3 FIN     a correct Finished for the target's state, first byte xor data[0]
  4 CV      a CertificateVerify over the target's transcript: data[0] picks the scheme
            and key, data[1] (if any) is xor-ed into the signature's last byte
  5 KEX     TLS 1.2: a signed ServerKeyExchange (data[0] picks the group) or a
            ClientKeyExchange with a valid share for the server's group
  6 CCS     a plaintext change_cipher_spec record (content data, default 01)
  7 ACT     the target acts: data[0] % 8 = send data, update_keys(False/True), close,
            request_client_certificate, read, export_keying_material, outgoing
  8 INNER   TLS 1.3: data is the whole TLSInnerPlaintext of one sealed record
  9 CERT    a Certificate message of ours: data[0] picks the chain; the
            certificate_request_context is the one the target asked for
 10 HSRAW   data as the bytes of handshake records (no framing added)
"""
import random

import _common
from _common import FuzzBug, Sealer, TLSError, feature, snapshot

keyschedule = _common.keyschedule
m = _common.messages
m12 = _common.messages12
signatures = _common.signatures

RAW, REC, HS, FIN, CV, KEX, CCS, ACT, INNER, CERT, HSRAW = range(11)
N_OPS = 11
FRAGMENTS = [0, 1, 3, 16, 100, 16384, 0, 0]    # 0: as large as the target accepts


class Peer:
    """The harness side of one run against ``conn``."""

    def __init__(self, conn, role):
        self.conn = conn
        self.role = role                     # the target's role: "client" or "server"
        self.pending = b""                   # coalesced handshake bytes
        self.pending_frag = 0
        self.correct_finished = False

    # keys ---------------------------------------------------------------------

    def sealer(self):
        conn = self.conn
        reader = conn.records.reader
        if reader is None:
            return None
        if reader.tls13:
            return _common.tls13_sealer(conn.suite, conn.read_secret, reader.sequence)
        machine = conn.handshake
        ck, civ, sk, siv = _common.handshake12.traffic_keys12(
            conn.suite, machine.master_secret, conn.client_random, machine.server_random)
        if conn.server_side:
            return Sealer(conn.suite, ck, civ, reader.sequence)
        return Sealer(conn.suite, sk, siv, reader.sequence)

    def record(self, ctype, content, plaintext=False):
        sealer = None if plaintext else self.sealer()
        if sealer is None:
            return _common.record_header(ctype, len(content)) + content
        return sealer.seal(ctype, content)

    # sending ------------------------------------------------------------------

    def send(self, data):
        _common.drive(self.conn, self.role, data)

    def send_handshake_bytes(self, data, frag):
        size = FRAGMENTS[frag & 7] or min(self.conn.records.receive_limit, 16384)
        out = bytearray()
        for i in range(0, max(len(data), 1), size):
            out += self.record(22, data[i:i + size])
            if len(out) > 300000:
                break
        self.send(bytes(out))

    def flush(self):
        if self.pending:
            data, self.pending = self.pending, b""
            self.send_handshake_bytes(data, self.pending_frag)

    def handshake(self, msg_type, body, flags=0):
        self.pending += _common.handshake_message(msg_type, body)
        self.pending_frag = flags
        if not flags & 8:
            self.flush()

    # values a fuzzer cannot guess ---------------------------------------------

    def finished_body(self):
        conn = self.conn
        machine = conn.handshake
        suite = conn.suite
        if suite is None:
            return b"\x00" * 32
        hash_name = suite.hash_name
        try:
            if conn.version == 0x0303:
                from_client = conn.server_side
                return keyschedule.finished12(hash_name, machine.master_secret, from_client,
                                              machine.transcript.digest())
            # The Finished we expect is keyed by our current read secret.
            pha = getattr(machine, "pha", None) if conn.server_side else None
            transcript = machine.transcript if pha is None else pha[1]
            return conn.finished_verify_data(False, transcript.digest())
        except (AttributeError, TypeError, TLSError):
            return b"\x00" * keyschedule.HASH_LENGTHS.get(hash_name, 32)

    def certificate_verify_body(self, selector, corrupt):
        conn = self.conn
        machine = conn.handshake
        p = _common.pki()
        if conn.server_side:
            choices = [(0x0403, p.client_key), (0x0503, p.client_key), (0x0807, p.client_key),
                       (0x0401, p.client_key)]
        else:
            choices = [(0x0403, p.server_key), (0x0807, p.ed_server_key), (0x0503, p.server_key),
                       (0x0804, p.server_key)]
        scheme, key = choices[selector % len(choices)]
        try:
            if conn.version == 0x0303:
                data = bytes(machine.messages)
            else:
                pha = getattr(machine, "pha", None)
                transcript = pha[1] if pha is not None else machine.transcript
                data = signatures.certificate_verify_input(transcript.digest(), not conn.server_side)
        except (AttributeError, TypeError, TLSError):
            data = b""
        try:
            signature = signatures.sign(key, scheme, data)
        except ValueError:              # the key cannot make this scheme: garbage instead
            signature = b"\x30\x06\x02\x01\x01\x02\x01\x01"
        if corrupt:
            signature = signature[:-1] + bytes([signature[-1] ^ corrupt])
        return scheme.to_bytes(2, "big") + len(signature).to_bytes(2, "big") + signature

    def key_exchange(self, selector):
        conn = self.conn
        machine = conn.handshake
        groups = _common.groups
        if conn.server_side:
            group = conn.group.code if conn.group is not None else 0x001D
            public = groups.GROUPS[group].generate().public_bytes()[:255]
            return 16, len(public).to_bytes(1, "big") + public
        group = [0x001D, 0x0017, 0x0018, 0x11EC][selector % 4]
        public = groups.GROUPS[group].generate().public_bytes()[:255]
        params = m12.ecdhe_params(group, public)
        random_ = (conn.client_random or b"") + (getattr(machine, "server_random", b"") or b"")
        p = _common.pki()
        scheme, key = [(0x0403, p.server_key), (0x0503, p.server_key), (0x0807, p.ed_server_key)][
            (selector >> 2) % 3]
        signature = signatures.sign(key, scheme, random_ + params)
        return 12, m12.encode_server_key_exchange(params, scheme, signature)[4:]

    def certificate_body(self, selector):
        conn = self.conn
        p = _common.pki()
        chains = [[p.client_der] if conn.server_side else [p.server_der],
                  [], [p.ed_server_der], [p.server_der, p.root_der], [p.client_der, p.root_der],
                  [b"\x30\x03\x02\x01\x00"], [p.root_der]]
        chain = chains[selector % len(chains)]
        if conn.version == 0x0303:
            return m12.encode_certificate12(chain)[4:]
        context = b""
        machine = conn.handshake
        if conn.server_side and getattr(machine, "pha", None) is not None:
            context = machine.pha[0]
        elif not conn.server_side and selector & 0x80:
            context = b"\x01" * 8
        return m.encode_certificate(context, chain)[4:]

    def act(self, what):
        conn = self.conn
        kind = what % 8
        try:
            if kind == 0:
                conn.send(b"application data")
            elif kind == 1:
                conn.update_keys(False)
            elif kind == 2:
                conn.update_keys(True)
            elif kind == 3:
                conn.close()
            elif kind == 4:
                machine = conn.handshake
                if conn.server_side and hasattr(machine, "request_client_certificate"):
                    machine.request_client_certificate()
            elif kind == 5:
                conn.read()
            elif kind == 6:
                conn.export_keying_material(b"EXPORTER-fuzz", b"ctx" if what & 8 else None, 32)
            else:
                conn.outgoing()
        except TLSError as err:         # refusing an API call in this state is fine
            cause = err.__cause__
            if cause is not None and not isinstance(cause, TLSError):
                raise FuzzBug("API call %d: %s escaped as %s" % (kind, type(cause).__name__, err)) \
                    from cause
            feature(self.role, "act refused", kind, err.reason)
            return
        feature(self.role, "act", kind, conn.handshake_complete)

    # one op -------------------------------------------------------------------

    def op(self, op, data):
        kind = op % N_OPS
        if kind != HS:
            self.flush()
        if kind == RAW:
            self.send(data)
        elif kind == REC and data:
            self.send(self.record(data[0], data[1:]))
        elif kind == HS and len(data) >= 2:
            self.handshake(data[0], data[2:], data[1])
        elif kind == FIN:
            body = self.finished_body()
            if data and data[0]:
                body = bytes([body[0] ^ data[0]]) + body[1:]
            else:
                self.correct_finished = True
            self.handshake(20, body)
        elif kind == CV:
            self.handshake(15, self.certificate_verify_body(data[0] if data else 0,
                                                            data[1] if len(data) > 1 else 0))
        elif kind == KEX:
            msg_type, body = self.key_exchange(data[0] if data else 0)
            self.handshake(msg_type, body)
        elif kind == CCS:
            self.send(_common.record_header(20, len(data or b"\x01")) + (data or b"\x01"))
        elif kind == ACT:
            self.act(data[0] if data else 0)
        elif kind == INNER:
            sealer = self.sealer()
            if sealer is not None and sealer.tls13:
                self.send(sealer.seal_inner(data))
            else:
                self.send(self.record(23, data))
        elif kind == CERT:
            self.handshake(11, self.certificate_body(data[0] if data else 0),
                           data[1] if len(data) > 1 else 0)
        elif kind == HSRAW and data:
            self.send_handshake_bytes(data, 0)


def run_script(conn, role, config, ops, where):
    """Play ``ops`` against ``conn``; returns the TLSError that ended it, or None."""
    peer = Peer(conn, role)
    prev = snapshot(conn)
    err = None
    ops = list(ops) + [(ACT, b"\x07")]       # a final op flushes coalesced messages
    for op, data in ops:
        kind = op % N_OPS
        detail = ""
        if data and kind == HS:
            detail = data[0]
        elif data and kind == REC:
            detail = data[0] if 20 <= data[0] <= 23 else "other"
        elif data and kind == ACT:
            detail = data[0] % 8
        try:
            peer.op(op, data)
        except TLSError as exc:
            err = exc
            _common.check_tls_error(err, where)
            _common.check_failed_connection(conn, err, where)
            feature(where, prev, kind, detail, "failed")
            break
        finally:
            conn.outgoing()
        snap = snapshot(conn)
        feature(where, prev, kind, detail, snap)
        prev = snap
        data_read = conn.read()
        if data_read:
            feature(where, "app data", conn.version)
        err = _common.left_error(conn, data_read, where)
        if err is not None:
            break
    if conn.handshake_complete:
        _common.check_established(conn, config, where)
        if not peer.correct_finished:
            raise FuzzBug("%s: handshake completed without a correct Finished from the peer" % where)
    return err


# ---------------------------------------------------------------- mutation

def mutator(data, max_size, seed):
    """Config byte + ops: structure-aware changes to the op list."""
    rng = random.Random(seed)
    if len(data) < 1 or rng.randrange(8) == 0:
        return _common.byte_mutate(data, max_size)
    head = bytearray(data[:1])
    ops = _common.decode_ops(data[1:])
    choice = rng.randrange(10)
    if choice == 0:
        head[0] = rng.randrange(256)
    elif choice in (1, 2, 3) and ops:                  # a handshake message, TLS-aware
        hs = [i for i, (op, d) in enumerate(ops) if op % N_OPS == HS and len(d) >= 2]
        if hs:
            i = rng.choice(hs)
            op, d = ops[i]
            if rng.randrange(10) == 0:
                d = bytes([rng.choice([1, 2, 4, 5, 8, 11, 12, 13, 14, 15, 16, 20, 24, 0, 254])]) + d[1:]
            elif rng.randrange(10) == 0:
                d = d[:1] + bytes([rng.randrange(16)]) + d[2:]
            else:
                d = d[:2] + _common.mutate_handshake_body(d[0], d[2:], max_size, rng)
            ops[i] = (op, d)
        elif ops:
            i = rng.randrange(len(ops))
            ops[i] = (ops[i][0], _common.byte_mutate(ops[i][1], max(64, 2 * len(ops[i][1]))))
    elif choice == 4 and ops:                          # the data of any op
        i = rng.randrange(len(ops))
        ops[i] = (ops[i][0], _common.byte_mutate(ops[i][1], max(64, 2 * len(ops[i][1]))))
    elif choice == 5:                                  # a new op
        ops.insert(rng.randrange(len(ops) + 1), _random_op(rng))
    elif choice == 6 and ops:
        del ops[rng.randrange(len(ops))]
    elif choice == 7 and ops:
        ops.insert(rng.randrange(len(ops) + 1), ops[rng.randrange(len(ops))])
    elif choice == 8 and len(ops) > 1:
        i, j = rng.randrange(len(ops)), rng.randrange(len(ops))
        ops[i], ops[j] = ops[j], ops[i]
    else:
        ops.append(_random_op(rng))
    return (bytes(head) + _common.encode_ops(ops))[:max_size]


def _random_op(rng):
    kind = rng.randrange(N_OPS)
    if kind == HS:
        msg = rng.choice([(24, b"\x00"), (24, b"\x01"), (24, b"\x02"), (4, b""), (20, b"\x00" * 32),
                          (13, b"\x00\x00\x00"), (8, b"\x00\x00"), (0, b""), (5, b""), (14, b""),
                          (1, b""), (11, b"\x00\x00\x00\x00"), (254, b"")])
        return HS, bytes([msg[0], rng.randrange(16)]) + msg[1]
    if kind == REC:
        return REC, bytes([rng.choice([21, 23, 22, 20, 0, 99])]) + rng.choice(
            [b"\x01\x00", b"\x02\x28", b"\x01\x5a", b"data", b"", b"\x01"])
    if kind == ACT:
        return ACT, bytes([rng.randrange(16)])
    if kind == INNER:
        return INNER, rng.choice([b"\x00\x00", b"x\x17", b"\x01\x14", b"\x01\x00\x00\x15", b"y\x63"])
    if kind == RAW:
        return RAW, bytes(rng.randrange(256) for _ in range(rng.randint(0, 8)))
    return kind, bytes([rng.randrange(256), rng.randrange(4)])


def crossover(data1, data2, max_size, seed):
    rng = random.Random(seed)
    ops1, ops2 = _common.decode_ops(data1[1:]), _common.decode_ops(data2[1:])
    cut1, cut2 = rng.randint(0, len(ops1)), rng.randint(0, len(ops2))
    return (data1[:1] + _common.encode_ops(ops1[:cut1] + ops2[cut2:]))[:max_size]


# ---------------------------------------------------------------- seeds from a real peer

def ops_from_peer(sent, version, peer_is_server, middlebox=True, tls12_ccs_before_finished=True):
    """Turn the plaintext handshake messages a real peer sent into ops."""
    ops = []
    ccs_sent = False
    for raw, _epoch in sent:
        t, body = raw[0], raw[4:]
        if t == 15:
            ed = peer_is_server and int.from_bytes(body[:2], "big") == 0x0807
            ops.append((CV, bytes([1 if ed else 0])))
        elif t == 20:
            if version == 0x0303 and tls12_ccs_before_finished:
                ops.append((CCS, b"\x01"))
            ops.append((FIN, b"\x00"))
        elif t in (12, 16) and version == 0x0303:
            group = {0x001D: 0, 0x0017: 1, 0x0018: 2}.get(int.from_bytes(body[1:3], "big"), 0)
            ops.append((KEX, bytes([group])))
        else:
            ops.append((HS, bytes([t, 0]) + body))
            if t == 2 and version == 0x0304 and middlebox and peer_is_server and not ccs_sent:
                ops.append((CCS, b"\x01"))
                ccs_sent = True
    return ops
