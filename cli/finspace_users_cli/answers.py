"""Each question's objects, its verified history, its answer and its exit status."""

import argparse

from cryptography.hazmat.primitives.asymmetric import rsa

from finspace_users_cli import questions
from finspace_users_cli.output import print_answer
from finspace_users_cli.sources import History
from finspace_users_cli.verified import CHANGES, USERS, now_utc, parsed_moment, tick_time, verified_history
from finspace_users_cli.verify import ObjectFilter


def objects_for(args: argparse.Namespace, ticks: list[str]) -> ObjectFilter:
    """Which objects the question reads: no more than it uses."""
    if args.command in ("summary", "who", "export"):
        standing = questions.standing_tick(ticks, parsed_moment(args.at) if args.at else now_utc())
        names = {USERS, CHANGES} if args.command == "export" else {USERS}
        return lambda tick, name: tick == standing and name in names
    if args.command == "changes":
        since = parsed_moment(args.since) if args.since else None
        until = parsed_moment(args.until) if args.until else now_utc()

        def within(tick: str) -> bool:
            return (since is None or tick_time(tick) > since) and tick_time(tick) <= until

        return lambda tick, name: name == CHANGES and within(tick)
    if args.command == "history":
        return lambda tick, name: name == CHANGES or (name == USERS and tick == ticks[0])
    from finspace_users_cli.sql import needs_users

    with_users = needs_users(args.sql)
    return lambda tick, name: name == CHANGES or (with_users and name == USERS)


def answer(args: argparse.Namespace, history: History, public_key: rsa.RSAPublicKey) -> int:
    # Bad inputs fail before any object is read.
    moment = parsed_moment(args.at) if getattr(args, "at", None) else now_utc()
    since = parsed_moment(args.since) if getattr(args, "since", None) else None
    until = parsed_moment(args.until) if getattr(args, "until", None) else now_utc()
    ticks = questions.ticks_of(history)
    verified = verified_history(history, public_key, objects_for(args, ticks))
    try:
        if args.command == "summary":
            result = questions.summary(verified, moment)
        elif args.command == "changes":
            result = questions.changes(verified, since, until)
        elif args.command == "who":
            filters = {"type": args.type, "status": args.status, "apiAccess": args.api_access}
            result = questions.who(verified, moment, filters, args.dormant)
        elif args.command == "history":
            result = questions.history(verified, args.user_id)
        elif args.command == "query":
            from finspace_users_cli.sql import query

            result = query(verified, args.sql)
        else:
            from finspace_users_cli.export import export

            result = export(verified, history, public_key, moment, args)
        print_answer(result, args.json, args.csv)
    finally:
        verified.close()
    return 1 if verified.left_out else 0
