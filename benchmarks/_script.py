"""What the small benchmark scripts start with: a --quick flag and a line naming the machine."""
import argparse
import platform


def quick_run(doc, what):
    """Parse ``--quick`` (described by the script's docstring ``doc``), print the machine
    line ending with ``what``; True for a smoke run."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few rounds (a smoke run)")
    args = parser.parse_args()
    print("machine: %s, %s, Python %s; %s" % (platform.machine(), platform.processor() or "cpu",
                                              platform.python_version(), what))
    return args.quick
