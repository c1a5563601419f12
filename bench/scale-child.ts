// The scale bench's observer child (bench/scale.ts starts it): the harness's Observer alone in a
// process of its own, instrumented from outside, driven over IPC. It runs from the compiled dist/
// (dist/bench/scale-child.js, built by `npm run build`) under plain node: no tsx in the process,
// so its memory is what an installed `chaos` would use.
import fs from 'node:fs';
import { Kube } from '../harness/k8s/index.js';
import { Observer } from '../harness/observe/observer.js';
import { Recorder } from '../harness/timeline.js';
import { wallMinusMonoMs } from './audit.js';

export const NS = 'scale';
export const SELECTOR = 'app=scale';

// ---------------------------------------------------------------------------------------------
// The child: the Observer alone, instrumented from outside (a counter on client-node's Watch).
// ---------------------------------------------------------------------------------------------

export interface Mem { rssMB: number; hwmMB: number; heapMB: number }
export interface ChildPodEvent { t: number; key: string; ready: boolean; deleted: boolean }
export type ChildMsg =
  | { type: 'ready'; base: Mem; execArgv: string[]; nodeOptions: string }
  | { type: 'listed'; listS: number; cpuS: number; mem: Mem; pods: number; nodes: number; originNs: string; wallMinusMonoMs: number }
  | { type: 'marked' }
  | { type: 'collected'; cpuS: number; events: number; podEvents: ChildPodEvent[]; mem: Mem; peakRssMB: number }
  | { type: 'error'; error: string };

function mem(): Mem {
  const s = fs.readFileSync('/proc/self/status', 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
  return { rssMB: kb('VmRSS') / 1024, hwmMB: kb('VmHWM') / 1024, heapMB: process.memoryUsage().heapUsed / 2 ** 20 };
}

const cpuS = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;

async function child(): Promise<void> {
  const send = (m: ChildMsg) => process.send!(m);
  try {
    let peak = 0;
    setInterval(() => { peak = Math.max(peak, mem().rssMB); }, 100).unref();
    send({ type: 'ready', base: mem(), execArgv: process.execArgv, nodeOptions: process.env.NODE_OPTIONS ?? '' });
    let rec: InstanceType<typeof Recorder> | undefined;
    let obs: InstanceType<typeof Observer> | undefined;
    let mark = { cpu: process.cpuUsage(), events: 0, idx: 0 };
    process.on('message', (m: { cmd: string; kubeconfig?: string }) => {
      void (async () => {
        try {
          if (m.cmd === 'start') {
            const kube = Kube.load({ kubeconfig: m.kubeconfig });
            rec = new Recorder();
            obs = new Observer(kube, rec, [{ namespace: NS, selector: SELECTOR }]);
            const c0 = process.cpuUsage();
            const t0 = performance.now();
            await obs.start();
            const listS = (performance.now() - t0) / 1000;
            const cpu = cpuS(process.cpuUsage(c0));
            send({ type: 'listed', listS, cpuS: cpu, mem: mem(), pods: obs.pods.size, nodes: obs.nodes.size, originNs: rec.originNs.toString(), wallMinusMonoMs: wallMinusMonoMs() });
          } else if (m.cmd === 'mark') {
            peak = mem().rssMB;
            mark = { cpu: process.cpuUsage(), events: obs!.watchEvents(), idx: rec!.events.length };
            send({ type: 'marked' });
          } else if (m.cmd === 'collect') {
            const podEvents: ChildPodEvent[] = [];
            for (const e of rec!.events.slice(mark.idx)) if (e.type === 'pod') podEvents.push({ t: e.t, key: e.key, ready: e.ready, deleted: e.deleted });
            send({ type: 'collected', cpuS: cpuS(process.cpuUsage(mark.cpu)), events: obs!.watchEvents() - mark.events, podEvents, mem: mem(), peakRssMB: peak });
          } else if (m.cmd === 'exit') {
            process.exit(0);
          }
        } catch (err) {
          send({ type: 'error', error: (err as Error).stack ?? String(err) });
        }
      })();
    });
  } catch (err) {
    send({ type: 'error', error: (err as Error).stack ?? String(err) });
  }
}

if (process.env.BENCH_SCALE_CHILD === '1' && process.send) void child();

