"""`lpwa gateway dead list|requeue|drop`: the rows the broker refused (e.g. not authorised by its
ACL), kept in the store's `dead` table for the operator instead of being retried forever.

`list` shows device, topic, reason, age and size, never a payload (personal data). `requeue` puts
rows back at the end of the outbox (after fixing the ACL), `drop` deletes them. Both change the
file a running gateway counts in memory, so they refuse while its status says it runs.
"""

import json
import os
import sys
import time


def register(gsub, add_state_args):
    d = gsub.add_parser("dead", help="list, re-queue or drop the messages the broker refused")
    dsub = d.add_subparsers(dest="dead_command", metavar="ACTION")
    d.set_defaults(func=lambda args: (d.print_help(), 2)[1])
    for name, func, what in (("list", dead_list, "show refused messages (no payloads)"),
                             ("requeue", dead_requeue, "put refused messages back in the queue"),
                             ("drop", dead_drop, "delete refused messages for good")):
        p = dsub.add_parser(name, help=what)
        add_state_args(p)
        if name == "list":
            p.add_argument("--json", action="store_true", help="one JSON object per row")
        else:
            p.add_argument("seq", nargs="*", type=int, help="the rows' seq (from list)")
            p.add_argument("--all", action="store_true", help="every dead row")
        p.set_defaults(func=func)


def _open(args):
    from lpwa.gateway.service import STATUS_FILE
    from lpwa.gateway.store import Store
    from lpwa.tools.cli.gateway import state_dir_of

    state_dir = state_dir_of(args)
    path = os.path.join(state_dir, "queue.sqlite3")
    if not os.path.exists(path):
        sys.stderr.write("lpwa gateway dead: no store at %s\n" % path)
        raise SystemExit(1)
    return Store(path), os.path.join(state_dir, STATUS_FILE)


def dead_list(args):
    store, _status = _open(args)
    try:
        rows = store.dead_rows()
    finally:
        store.close()
    now = time.time()
    if args.json:
        for seq, device, topic, reason, created, size in rows:
            print(json.dumps({"seq": seq, "device": device or None, "topic": topic, "reason": reason,
                              "age_s": round(now - created, 1), "bytes": size}))
        return 0
    from lpwa.tools.cli.gateway import ago

    print("%6s %-9s %-12s %7s  %-40s %s" % ("seq", "device", "age", "bytes", "topic", "reason"))
    for seq, device, topic, reason, created, size in rows:
        print("%6d %-9s %-12s %7d  %-40s %s" % (seq, device or "-", ago(created, now), size, topic, reason))
    print("%d dead row%s" % (len(rows), "" if len(rows) == 1 else "s"), file=sys.stderr)
    return 0


def _change(args, verb, method):
    from lpwa.gateway.store import QueueFull
    from lpwa.tools.cli.gateway import running_pid

    if not args.seq and not args.all:
        sys.stderr.write("lpwa gateway dead %s: name the rows' seq, or --all\n" % verb)
        return 2
    store, status = _open(args)
    try:
        pid = running_pid(status)
        if pid:
            sys.stderr.write("lpwa gateway dead %s: the gateway is running (pid %d); stop it first\n" % (verb, pid))
            return 1
        n = getattr(store, method)(None if args.all else args.seq)
    except QueueFull:
        sys.stderr.write("lpwa gateway dead %s: the queue has no room for them (queue.max_frames)\n" % verb)
        return 1
    finally:
        store.close()
    print("%s %d row%s" % ("re-queued" if verb == "requeue" else "dropped", n, "" if n == 1 else "s"))
    return 0


def dead_requeue(args):
    return _change(args, "requeue", "requeue_dead")


def dead_drop(args):
    return _change(args, "drop", "drop_dead")
