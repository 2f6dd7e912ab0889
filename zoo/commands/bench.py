"""``zoo bench --suite NAME_OR_FILE --out DIR``: benchmark models across runtimes and peers.

    zoo bench --suite default                       # writes bench-report/ (report.md, results.json/.csv, PNGs)
    zoo bench --suite smoke --out /tmp/smoke        # tiny models, seconds per case (CI)
    zoo bench --suite my-suite.json --models bert-tiny --runtimes ort-cpu,tf-function
    zoo bench --list                                # suites and runtimes

Each case runs in its own process; a runtime that fails is reported as
failed in the report and the others still run. See ``zoo.bench``.
"""


def _names(text):
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


def cmd_bench(args):
    from zoo import bench
    from zoo.bench.runtimes import RUNTIMES

    if args.list:
        print("suites: " + ", ".join(bench.list_suites()))
        print("runtimes:")
        for runtime in RUNTIMES.values():
            print(f"  {runtime.name:<20} {runtime.kind:<5} {runtime.description}")
        return 0
    suite = bench.load_suite(args.suite)  # bad names fail here, before any work
    results = bench.run(suite, args.out, models=_names(args.models), runtimes=_names(args.runtimes),
                        progress=not args.no_progress, keep_artifacts=args.keep_artifacts)
    counts = {}
    for row in results["records"]:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    print(f"suite {results['suite']['name']!r}: {summary} (rows) in {results['elapsed_s'] / 60:.1f} min")
    print(f"report: {args.out}/report.md  (results.json, results.csv, {len(results.get('plots', []))} PNG plots)")
    return 0


def register(subparsers):
    p = subparsers.add_parser("bench", help="benchmark models across runtimes and peers (report.md, JSON, CSV, PNG)")
    p.add_argument("--suite", default="default", help="a suite name (smoke, default, full) or a suite JSON file (default: default)")
    p.add_argument("--out", default="bench-report", help="output folder (default: bench-report)")
    p.add_argument("--models", help="comma-separated model labels of the suite to run (default: all)")
    p.add_argument("--runtimes", help="comma-separated runtimes to run (default: the suite's)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--keep-artifacts", action="store_true",
                   help="keep the exported models in DIR/work/artifacts (deleted after each model by default)")
    p.add_argument("--list", action="store_true", help="list suites and runtimes, then exit")
    p.set_defaults(func=cmd_bench)
