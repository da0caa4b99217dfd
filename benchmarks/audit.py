"""Lighthouse over every page of the built site, as a reader's phone would get it (`make audit`).

    make audit                       # builds the site, installs Lighthouse, audits every page
    python benchmarks/audit.py --site /tmp/site --pages reference/   # one page of a built site

What it does:

1. builds the site with ``mkdocs build --strict`` into a temporary folder (or takes ``--site``),
   and the control: one page of Material for MkDocs with its default settings and nothing of
   the book's (``benchmarks/control/``), built with the same Material;
2. serves each on 127.0.0.1 under the path of ``site_url`` (``/lossbook/``), with gzip as a static
   host sends it (``tests/site_support.py``);
3. runs Lighthouse 12.2.3 (pinned in ``tools/audit/package.json``, installed by ``make audit``
   with ``npm ci --prefix tools/audit``, never by ``make test``) with its default settings,
   the mobile ones (Moto G Power screen, simulated slow 4G and 4x CPU slowdown), on Debian's
   Chromium (``CHROME_PATH``, default ``/usr/bin/chromium``), one page at a time;
4. runs it ``--runs`` times per page (default 3) and prints one row per page with the medians:
   the four category scores, total blocking time, largest contentful paint, cumulative layout
   shift and the kilobytes transferred, then every audit that kept accessibility, best practices
   or SEO under 100, and the machine's load average before and after. The control's row comes
   first, audited in the same way in the same minutes: what the theme alone scores on the
   machine at that time, against which a page's score reads (``--no-control`` leaves it out).

Targets (issue 13): performance >= 95, TBT <= 200 ms, LCP <= 2.5 s, CLS 0, the other three 100.
Exit status 1 if accessibility, best practices or SEO is under 100 on any page of the book (the
control is Material as it comes, with its own accessibility misses, and is only reported).
Performance is reported, not asserted: on a shared 2-core machine it moves with the load of the
machine.
Reports are kept as JSON in ``--out`` (default: a temporary folder, printed at the end).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from machine import cpu_model  # noqa: E402  (benchmarks/machine.py)
from tests.site_support import page_paths, serve  # noqa: E402

CONTROL = ROOT / "benchmarks" / "control"  # its mkdocs.yml and its one page
CONTROL_ROW = "(control: Material)"
LIGHTHOUSE = ROOT / "tools" / "audit" / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
MUST_BE_100 = ("accessibility", "best-practices", "seo")
CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-background-networking "
    "--disable-component-update --disable-sync --no-first-run"
)


def build(site: Path, config: Path = ROOT / "mkdocs.yml") -> None:
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--config-file", str(config),
         "--site-dir", str(site)],
        cwd=ROOT, check=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )


def lighthouse(url: str, report: Path) -> dict:
    chrome = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
    command = [
        str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={report}",
        f"--only-categories={','.join(CATEGORIES)}", f"--chrome-flags={CHROME_FLAGS}",
    ]
    subprocess.run(command, check=True, env={**os.environ, "CHROME_PATH": chrome}, timeout=300)
    return json.loads(report.read_text(encoding="utf-8"))


def summarise(result: dict) -> dict:
    audits = result["audits"]
    row = {name: round(100 * (result["categories"][name]["score"] or 0)) for name in CATEGORIES}
    row["bytes"] = audits["total-byte-weight"]["numericValue"]
    row["cls"] = audits["cumulative-layout-shift"]["numericValue"]
    row["tbt"] = audits["total-blocking-time"]["numericValue"]
    row["lcp"] = audits["largest-contentful-paint"]["numericValue"]
    row["failing"] = [
        f"{category}: {ref['id']} ({audits[ref['id']]['title']})"
        for category in MUST_BE_100
        for ref in result["categories"][category]["auditRefs"]
        if ref["weight"] > 0 and audits[ref["id"]]["score"] is not None and audits[ref["id"]]["score"] < 1
    ]
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--site", type=Path, help="a site built beforehand (default: build one now)")
    parser.add_argument("--pages", nargs="*", help="URL paths to audit, e.g. '' reference/ (default: every page)")
    parser.add_argument("--out", type=Path, help="folder for the JSON reports")
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per page (medians are printed)")
    parser.add_argument("--no-control", dest="control", action="store_false",
                        help="leave out the control page (Material as it comes, benchmarks/control/)")
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        print(f"{LIGHTHOUSE} is missing: run 'npm ci --prefix tools/audit' (make audit does it)", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="lossbook-audit-"))
    site = args.site or work / "site"
    if args.site is None:
        build(site)
    out = args.out or work / "reports"
    out.mkdir(parents=True, exist_ok=True)
    pages = page_paths(site) if args.pages is None else args.pages
    # (site served, URL path, row name, report file stem)
    audits = [(site, path, path or "(home)", (path.strip("/") or "home").replace("/", "_")) for path in pages]
    if args.control:
        build(work / "control", CONTROL / "mkdocs.yml")
        audits.insert(0, (work / "control", "", CONTROL_ROW, "control"))
    print(f"Lighthouse 12.2.3, mobile defaults, {os.environ.get('CHROME_PATH', '/usr/bin/chromium')}; "
          f"{cpu_model()}, {os.cpu_count()} cores; site served with gzip on 127.0.0.1")
    print(f"medians of {args.runs} runs per page; load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    width = max((len(name) for _, _, name, _ in audits), default=4)  # every row name in full
    header = f"{'page':<{width}} {'perf':>5} {'a11y':>5} {'best':>5} {'seo':>5} {'TBT ms':>7} {'LCP s':>6} {'CLS':>6} {'kB':>6}"
    print(header)
    print("-" * len(header))
    rows = {}
    started = time.perf_counter()
    for served, path, name, stem in audits:
        with serve(served) as base:
            runs = [summarise(lighthouse(base + path, out / f"{stem}.{run}.json")) for run in range(1, args.runs + 1)]
        row = rows[name] = {
            key: statistics.median(r[key] for r in runs) for key in (*CATEGORIES, "bytes", "cls", "tbt", "lcp")
        }
        row["failing"] = sorted({audit for r in runs for audit in r["failing"]})
        print(
            f"{name:<{width}} {row['performance']:>5.0f} {row['accessibility']:>5.0f} {row['best-practices']:>5.0f} "
            f"{row['seo']:>5.0f} {row['tbt']:>7.0f} {row['lcp'] / 1000:>6.2f} {row['cls']:>6.3f} {row['bytes'] / 1000:>6.1f}",
            flush=True,
        )
    control = rows.pop(CONTROL_ROW, None)
    failing = {name: row["failing"] for name, row in rows.items() if any(row[c] < 100 for c in MUST_BE_100)}
    for name, misses in failing.items():
        print(f"\n{name}: under 100 because of", *misses, sep="\n  ")
    print(f"\n{len(rows)} pages{' and the control' if control else ''} in {time.perf_counter() - started:.0f} s; reports in {out}; "
          f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if rows:
        worst = min(rows.values(), key=lambda r: r["performance"])["performance"]
        print(f"performance (median): lowest {worst:.0f}; accessibility, best practices, SEO: "
              f"{'100 on every page' if not failing else f'under 100 on {len(failing)} pages'}")
        fast = [name for name, row in rows.items() if row["performance"] >= 95]
        met = [name for name in fast if rows[name]["tbt"] <= 200 and rows[name]["lcp"] <= 2500 and rows[name]["cls"] == 0]
        print(f"performance 95 or more on {len(fast)} of {len(rows)} pages; with TBT <= 200 ms, LCP <= 2.5 s and "
              f"CLS 0 as well (issue 13's targets) on {len(met)}")
    if control:
        print(f"control (Material as it comes): performance {control['performance']:.0f}, TBT {control['tbt']:.0f} ms, "
              f"LCP {control['lcp'] / 1000:.2f} s")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
