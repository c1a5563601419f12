// `npm run bench [-- --only startup,accuracy,probe,scale,revert] [--full]`: runs the benchmarks one after the
// other (never in parallel: they share two cores), prints each one's tables and targets, and merges
// the results into reports/bench.json.
import { Command, Option } from 'commander';
import { renderResult, writeBenchJson, BENCH_JSON, type Bench, type BenchResult } from './common.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const ALL = ['startup', 'accuracy', 'probe', 'anchor', 'scale', 'revert'] as const;
const program = new Command('npm run bench --')
  .description('measure the harness: CLI start-up, observation accuracy vs ground truth, probe engine vs autocannon, vs vegeta (anchor), observer at scale, revert speed')
  .addOption(new Option('--only <names>', `comma-separated subset of ${ALL.join(', ')}`).default(ALL.join(',')))
  .option('--full', 'the long variants (e.g. the 1,000-node scale run)', false)
  .action(async (o: { only: string; full: boolean }) => {
    const names = o.only.split(',').map((s) => s.trim()).filter(Boolean);
    const unknown = names.filter((n) => !(ALL as readonly string[]).includes(n));
    if (unknown.length) { console.error(`unknown benchmark(s): ${unknown.join(', ')} (known: ${ALL.join(', ')})`); process.exit(2); }
    const results: BenchResult[] = [];
    let failed = false;
    for (const name of names) {
      const t0 = Date.now();
      const log = (m: string) => process.stderr.write(`[bench ${name} ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
      try {
        const mod = (await import(`./${name}.js`)) as { default: Bench };
        const r = await mod.default({ full: o.full, log });
        results.push(r);
        console.log(`${renderResult(r)}\n(${name}: ${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
        writeBenchJson([r]);
      } catch (err) {
        failed = true;
        console.error(`bench ${name} failed: ${(err as Error).stack ?? String(err)}`);
      }
    }
    const missed = results.flatMap((r) => r.targets.filter((t) => !t.met).map((t) => `${r.name}: ${t.what}`));
    console.log(`bench: ${results.length}/${names.length} ran; targets missed: ${missed.length ? missed.join('; ') : 'none'}; results in ${BENCH_JSON}`);
    process.exitCode = failed ? 1 : 0;
  });
await program.parseAsync(process.argv);
