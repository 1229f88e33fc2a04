"""python -m cyssl demo: show what the engine can do today.

Until the handshake lands (issue 3) the demo exercises the layers that exist: it derives
traffic keys with the TLS 1.3 key schedule, seals a message into a record with every
cipher suite, opens it again and checks it.
"""
import argparse
import os
import sys


def demo(args):
    from cyssl import __version__
    from cyssl.tls import keyschedule
    from cyssl.tls.record import RecordLayer, RecordProtection
    from cyssl.tls.suites import ALL_SUITES

    print("cyssl %s: record layer and key schedule demo" % __version__)
    message = args.message.encode()
    print("message: %r (%d bytes)\n" % (args.message, len(message)))
    print("%-46s %-7s %s" % ("cipher suite", "version", "record on the wire"))
    for suite in ALL_SUITES:
        # A TLS 1.3 style derivation: shared secret -> handshake secret -> traffic key/IV.
        schedule = keyschedule.KeySchedule(suite.hash_name)
        schedule.derive_handshake_secret(os.urandom(32))
        secret, _ = schedule.handshake_traffic_secrets(os.urandom(schedule.hash_length))
        key, iv = keyschedule.traffic_key_iv(suite.hash_name, secret, suite.aead.key_length,
                                             suite.fixed_iv_length)
        sender, receiver = RecordLayer(), RecordLayer()
        sender.set_writer(RecordProtection(suite, key, iv))
        receiver.set_reader(RecordProtection(suite, key, iv))
        sender.write(23, message)
        wire = sender.take_outgoing()
        receiver.receive(wire)
        content_type, payload = receiver.next_record()
        if content_type != 23 or bytes(payload) != message:
            print("%s: round trip FAILED" % suite.name)
            return 1
        print("%-46s %-7s %3d bytes: %s..." % (suite.name, "TLS1.3" if suite.tls13 else "TLS1.2",
                                                len(wire), wire[:12].hex()))
    print("\nevery suite sealed the message into a record and opened it again")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m cyssl", description="cyssl command line")
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("demo", help="seal and open a message with every cipher suite")
    p.add_argument("--message", default="hello from cyssl", help="the text to protect")
    p.set_defaults(run=demo)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
