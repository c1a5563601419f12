// The harness's own SSM Command documents, one per daemon action, as data. They replace
// AWS-RunShellScript (which runs any script as root): the IAM policy lets the role send these three
// documents only, and SSM itself refuses parameters outside the documents' allowedValues /
// allowedPattern, so the role can stop, kill and start four named daemons and nothing else.
// Installed by `chaos install-documents` (Aws.installDocuments) or by the CloudFormation template
// examples/iam/chaos-harness.yaml (generated from this data, checked by test/unit/iam-cloudformation.test.ts).
//
// The daemon, the seconds and the timer unit are document parameters ({{ name }}, substituted by SSM
// after it has validated them). The scripts run under `set -euo pipefail`; the node-local restore
// timer is armed BEFORE the daemon is touched and checked to exist (`systemctl is-active TIMER.timer`);
// every failure exits non-zero; and each script checks its own effect (the unit inactive, the process
// frozen or gone, kube-proxy's health endpoint silent): exit 86 (NOT_TAKEN_EXIT) when it is not there,
// which the harness reports as a fault that did not take (exit 6). Success prints `chaos: verified: …`.
// They assume the agent runs them with bash (Amazon Linux 2 / 2023 EKS AMIs: /bin/sh is bash).
import { createHash } from 'node:crypto';

import { shellCommand } from '../shell.js';

export const DAEMONS = ['kubelet', 'kube-proxy', 'containerd', 'docker'] as const;
export type DaemonName = (typeof DAEMONS)[number];

/** Bumped by hand whenever a document's content changes (it is in each document's description). */
export const DOCUMENTS_VERSION = 3;

export const DOCUMENT_NAMES = {
  stop: 'ChaosHarness-DaemonStop',
  kill: 'ChaosHarness-DaemonKill',
  restore: 'ChaosHarness-DaemonRestore',
} as const;
export type DocumentName = (typeof DOCUMENT_NAMES)[keyof typeof DOCUMENT_NAMES];

/** The restore timer unit: what harness/faults/daemon-kill.ts timerUnit() makes (run ids end in hex). */
export const TIMER_PATTERN = '^chaos-restore-(kubelet|kube-proxy|containerd|docker)-[a-z0-9]{1,32}$';
/** The restore document's optional timer to disarm: empty, or a timer unit as above. */
export const OPTIONAL_TIMER_PATTERN = `^(|${TIMER_PATTERN.slice(1, -1)})$`;
export const SECONDS_PATTERN = '^[0-9]{1,5}$';
export const EXECUTION_TIMEOUT_PATTERN = '^[0-9]{1,4}$';

export interface DocumentParameter {
  type: 'String';
  description: string;
  allowedValues?: string[];
  allowedPattern?: string;
  default?: string;
}

export interface CommandDocumentContent {
  schemaVersion: '2.2';
  description: string;
  parameters: Record<string, DocumentParameter>;
  mainSteps: Array<{ action: 'aws:runShellScript'; name: string; inputs: { timeoutSeconds: string; runCommand: string[] } }>;
}

export interface HarnessDocument {
  name: DocumentName;
  content: CommandDocumentContent;
  /** the exact Content string CreateDocument/UpdateDocument send (JSON) */
  text: string;
  /** sha256 of `text`, hex: what SSM reports as the document Hash for a document installed from it */
  hash: string;
}

const daemonParam: DocumentParameter = { type: 'String', description: 'The node daemon (systemd unit).', allowedValues: [...DAEMONS] };
const executionTimeout: DocumentParameter = {
  type: 'String', description: 'Seconds the script may run before SSM stops it.', allowedPattern: EXECUTION_TIMEOUT_PATTERN, default: '120',
};

/**
 * Once the revert has the daemon back, the run's node-local timer is disarmed: left armed it would fire
 * later and could undo a fault made after this run (a next run stopping the same daemon within the
 * timer's delay). Only after the daemon is verified back, so a failed restore keeps its safety net.
 */
const disarmTimer = 'if [ -n "{{ timer }}" ]; then systemctl stop "{{ timer }}.timer" 2>/dev/null || true; fi';

/** SSM on Bottlerocket runs in the control container: no host systemd (the plan refuses those nodes; this is the backstop). */
const requireSystemd = [
  'if ! command -v systemctl >/dev/null 2>&1; then echo "chaos: no systemctl here, so no host systemd (Bottlerocket runs SSM in its control container); nothing was touched" >&2; exit 3; fi',
];

/**
 * kube-proxy on EKS is the kube-proxy add-on's DaemonSet container, not a systemd unit (on AMIs
 * where it is a unit, the unit path below serves). kubelet restarts a killed container within
 * seconds, so `stop` freezes the process with SIGSTOP instead (kubelet does not restart a stopped
 * process) after arming a node-local SIGCONT timer, and checks the effect: the process is in state T
 * and its health endpoint (healthzBindAddress, 0.0.0.0:10256 in the add-on's config) stops answering.
 * `systemctl status`: 0 active, 3 inactive (a unit that exists); 4 or anything else: no such unit.
 */
const kubeProxyIsContainer = [
  'kp_rc=0; if [ "{{ daemon }}" = kube-proxy ]; then systemctl status kube-proxy >/dev/null 2>&1 || kp_rc=$?; fi',
  'kp_container=0; if [ "{{ daemon }}" = kube-proxy ] && [ "$kp_rc" != 0 ] && [ "$kp_rc" != 3 ]; then kp_container=1; fi',
];
const KUBE_PROXY_HEALTHZ = 'http://127.0.0.1:10256/healthz';
const healthzAnswers = `curl -fsS -m 2 -o /dev/null ${KUBE_PROXY_HEALTHZ} >/dev/null 2>&1`;
const kubeProxyPid = 'pid=$(pgrep -o -x kube-proxy) || { echo "chaos: kube-proxy is neither a systemd unit nor a running process on this node" >&2; exit 3; }';

/** Arms the node-local timer that starts the daemon again even if the harness dies, and checks it is there. */
const armTimer = (command: string) => [
  `systemd-run --on-active={{ seconds }}s --unit={{ timer }} ${command}`,
  'if ! systemctl is-active --quiet {{ timer }}.timer; then',
  '  echo "chaos: the restore timer {{ timer }}.timer is not active after arming it; {{ daemon }} was not touched" >&2',
  '  exit 4',
  'fi',
];

/** Exit code of a script whose fault did not take effect (the harness: verdict not-taken, exit 6); not one systemctl, pgrep or kill use. */
export const NOT_TAKEN_EXIT = 86;
/** How a script's stdout says it checked its own effect. */
export const VERIFIED_MARK = 'chaos: verified: ';

/** After SIGKILL: the pid is gone (or a zombie) within a second, else the kill did not take. */
const killedCheck = [
  'st=x; for _ in 1 2 3 4 5; do st=$(ps -o stat= -p "$pid" 2>/dev/null || true); case "$st" in ""|Z*) break;; esac; sleep 0.2; done',
  `case "$st" in ""|Z*) ;; *) echo "chaos: {{ daemon }} (pid $pid) still runs after SIGKILL (state $st): the fault did not take" >&2; exit ${NOT_TAKEN_EXIT};; esac`,
];

function content(description: string, parameters: Record<string, DocumentParameter>, step: string, runCommand: string[]): CommandDocumentContent {
  return {
    schemaVersion: '2.2',
    description: `k8s-chaos-harness document v${DOCUMENTS_VERSION}: ${description}`,
    parameters: { ...parameters, executionTimeout },
    mainSteps: [{ action: 'aws:runShellScript', name: step, inputs: { timeoutSeconds: '{{ executionTimeout }}', runCommand } }],
  };
}

const faultParams = {
  daemon: daemonParam,
  seconds: { type: 'String', description: 'Seconds after which the node-local timer starts the daemon again.', allowedPattern: SECONDS_PATTERN },
  timer: { type: 'String', description: 'The transient systemd unit name of the restore timer.', allowedPattern: TIMER_PATTERN },
} satisfies Record<string, DocumentParameter>;

function doc(name: DocumentName, c: CommandDocumentContent): HarnessDocument {
  const text = JSON.stringify(c, null, 2);
  return { name, content: c, text, hash: createHash('sha256').update(text).digest('hex') };
}

export const HARNESS_DOCUMENTS: readonly HarnessDocument[] = [
  doc(DOCUMENT_NAMES.stop, content('arm a node-local restore timer, then `systemctl stop` the daemon (kube-proxy as a container: freeze it with SIGSTOP), and check the effect', faultParams, 'stopDaemon', [
    'set -euo pipefail',
    ...requireSystemd,
    ...kubeProxyIsContainer,
    'if [ "$kp_container" = 1 ]; then',
    `  ${kubeProxyPid}`,
    ...armTimer('pkill -CONT -x kube-proxy').map((l) => `  ${l}`),
    '  kill -STOP "$pid"',
    '  st=$(ps -o stat= -p "$pid" 2>/dev/null || true)',
    `  case "$st" in T*) ;; *) echo "chaos: kube-proxy (pid $pid) is not stopped after SIGSTOP (state \${st:-gone}): the fault did not take" >&2; exit ${NOT_TAKEN_EXIT};; esac`,
    `  if ${healthzAnswers}; then echo "chaos: kube-proxy's health endpoint ${KUBE_PROXY_HEALTHZ} still answers after SIGSTOP: the fault did not take" >&2; exit ${NOT_TAKEN_EXIT}; fi`,
    `  echo "${VERIFIED_MARK}kube-proxy (pid $pid, the DaemonSet's container) is frozen (state $st) and ${KUBE_PROXY_HEALTHZ} does not answer; node-local timer {{ timer }} sends SIGCONT in {{ seconds }}s"`,
    '  exit 0',
    'fi',
    ...armTimer('systemctl start {{ daemon }}'),
    'systemctl stop {{ daemon }}',
    `if systemctl is-active --quiet {{ daemon }}; then echo "chaos: {{ daemon }} is still active after systemctl stop: the fault did not take" >&2; exit ${NOT_TAKEN_EXIT}; fi`,
    `echo "${VERIFIED_MARK}{{ daemon }} is inactive after systemctl stop; node-local timer {{ timer }} starts it in {{ seconds }}s"`,
  ])),
  doc(DOCUMENT_NAMES.kill, content('arm a node-local restore timer, then SIGKILL the daemon (systemd\'s Restart= policy, or kubelet for the kube-proxy container, decides when it returns), and check it died', faultParams, 'killDaemon', [
    'set -euo pipefail',
    ...requireSystemd,
    ...kubeProxyIsContainer,
    'if [ "$kp_container" = 1 ]; then',
    `  ${kubeProxyPid}`,
    '  kill -9 "$pid"',
    ...killedCheck.map((l) => `  ${l}`),
    `  echo "${VERIFIED_MARK}kube-proxy (pid $pid, the DaemonSet's container) killed with SIGKILL; kubelet restarts the container (its restart back-off decides when)"`,
    '  exit 0',
    'fi',
    ...armTimer('systemctl start {{ daemon }}'),
    // the docker unit's process is dockerd: `pgrep -x docker` would find the docker CLI, not the daemon
    'proc={{ daemon }}; if [ "$proc" = docker ]; then proc=dockerd; fi',
    'pid=$(pgrep -o -x "$proc") || { echo "chaos: {{ daemon }} is not running (no $proc process)" >&2; exit 3; }',
    'kill -9 "$pid"',
    ...killedCheck,
    `echo "${VERIFIED_MARK}{{ daemon }} (pid $pid) killed with SIGKILL; systemd's Restart= policy decides; timer {{ timer }} starts it in {{ seconds }}s at the latest"`,
  ])),
  doc(DOCUMENT_NAMES.restore, content('start the daemon again (kube-proxy as a container: SIGCONT), disarm the run\'s node-local timer, and check it is back', {
    daemon: daemonParam,
    timer: { type: 'String', description: 'The run\'s node-local restore timer to disarm once the daemon is restored (empty: none).', allowedPattern: OPTIONAL_TIMER_PATTERN, default: '' },
  }, 'restoreDaemon', [
    'set -euo pipefail',
    ...requireSystemd,
    ...kubeProxyIsContainer,
    'if [ "$kp_container" = 1 ]; then',
    '  pkill -CONT -x kube-proxy || true',
    // a killed container comes back when kubelet restarts it: wait for its health endpoint
    `  for _ in $(seq 1 30); do if ${healthzAnswers}; then ${disarmTimer}; echo "chaos: kube-proxy restored: ${KUBE_PROXY_HEALTHZ} answers"; exit 0; fi; sleep 1; done`,
    `  echo "chaos: kube-proxy's health endpoint ${KUBE_PROXY_HEALTHZ} does not answer 30 s after SIGCONT" >&2`,
    '  exit 6',
    'fi',
    'systemctl start {{ daemon }}',
    'systemctl is-active {{ daemon }}',
    // a kubelet that Requires= the runtime (the docker AMIs) went down with it: start it too
    'if [ "{{ daemon }}" = docker ] || [ "{{ daemon }}" = containerd ]; then systemctl start kubelet; systemctl is-active kubelet; fi',
    disarmTimer,
    'echo "chaos: {{ daemon }} restored"',
  ])),
];

export function harnessDocument(name: string): HarnessDocument {
  const d = HARNESS_DOCUMENTS.find((x) => x.name === name);
  if (!d) throw new Error(`no harness SSM document named ${name} (known: ${HARNESS_DOCUMENTS.map((x) => x.name).join(', ')})`);
  return d;
}

/** The document and parameters for a daemon-kill inject (what replaces killScript()). */
export function daemonFaultCall(daemon: string, mode: 'stop' | 'kill', seconds: number, timer: string): { documentName: DocumentName; parameters: Record<string, string> } {
  const documentName = mode === 'stop' ? DOCUMENT_NAMES.stop : DOCUMENT_NAMES.kill;
  const parameters = { daemon, seconds: String(seconds), timer };
  const bad = parameterProblems(harnessDocument(documentName).content, parameters);
  if (bad.length) throw new Error(`daemon-kill: ${bad.join('; ')}`);
  return { documentName, parameters };
}

/** The document and parameters for a daemon-kill revert (what replaces restoreScript()). */
export function daemonRestoreCall(daemon: string, timer?: string): { documentName: DocumentName; parameters: Record<string, string> } {
  const parameters: Record<string, string> = timer ? { daemon, timer } : { daemon };
  const bad = parameterProblems(harnessDocument(DOCUMENT_NAMES.restore).content, parameters);
  if (bad.length) throw new Error(`daemon-kill: ${bad.join('; ')}`);
  return { documentName: DOCUMENT_NAMES.restore, parameters };
}

/** The manual fix a revert prints when it could not restore a daemon. */
export function restoreFixCommand(instanceId: string, daemon: string): string {
  return shellCommand(['aws', 'ssm', 'send-command', '--document-name', DOCUMENT_NAMES.restore, '--instance-ids', instanceId, '--parameters', `daemon=${daemon}`]);
}

/**
 * What SSM would refuse (InvalidParameters) for these parameters: unknown names, missing required
 * ones, values outside allowedValues or not matching allowedPattern. Empty when SSM accepts them.
 */
export function parameterProblems(c: CommandDocumentContent, params: Record<string, string>): string[] {
  const out: string[] = [];
  for (const k of Object.keys(params)) if (!(k in c.parameters)) out.push(`parameter "${k}" is not declared by the document`);
  for (const [k, p] of Object.entries(c.parameters)) {
    const v = params[k] ?? p.default;
    if (v === undefined) { out.push(`parameter "${k}" is required`); continue; }
    if (p.allowedValues && !p.allowedValues.includes(v)) out.push(`parameter "${k}" value "${v}" is not one of ${p.allowedValues.join(', ')}`);
    if (p.allowedPattern && !new RegExp(p.allowedPattern).test(v)) out.push(`parameter "${k}" value "${v}" does not match ${p.allowedPattern}`);
  }
  return out;
}

/** A rendered document's script, with {{ name }} substituted as SSM does (after validation). */
export function renderScript(c: CommandDocumentContent, params: Record<string, string>): string {
  const bad = parameterProblems(c, params);
  if (bad.length) throw new Error(bad.join('; '));
  const values = Object.fromEntries(Object.entries(c.parameters).map(([k, p]) => [k, params[k] ?? p.default ?? '']));
  return c.mainSteps.map((s) => s.inputs.runCommand.join('\n')).join('\n').replace(/\{\{\s*(\w+)\s*\}\}/g, (m, k: string) => (k in values ? values[k] : m));
}

/** Same JSON value, key order ignored: how an installed document's content is compared with ours. */
export function sameDocumentContent(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v);
}
