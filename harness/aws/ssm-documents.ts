// The harness's own SSM Command documents, one per daemon action, as data. They replace
// AWS-RunShellScript (which runs any script as root): the IAM policy lets the role send these three
// documents only, and SSM itself refuses parameters outside the documents' allowedValues /
// allowedPattern, so the role can stop, kill and start four named daemons and nothing else.
// Installed by `chaos install-documents` (Aws.installDocuments) or by the CloudFormation template
// examples/iam/chaos-harness.yaml (generated from this data, checked by test/unit/iam-cloudformation.test.ts).
//
// The scripts are those harness/faults/daemon-kill.ts killScript/restoreScript produce, with the daemon,
// the seconds and the timer unit as document parameters ({{ name }}, substituted by SSM after it has
// validated them), hardened: `set -euo pipefail`, the node-local restore timer is armed BEFORE the daemon
// is touched and checked to exist (`systemctl is-active TIMER.timer`), and every failure exits non-zero.
// They assume the agent runs them with bash (Amazon Linux 2 / 2023 EKS AMIs: /bin/sh is bash).
import { createHash } from 'node:crypto';

import { shellCommand } from '../shell.js';

export const DAEMONS = ['kubelet', 'kube-proxy', 'containerd', 'docker'] as const;
export type DaemonName = (typeof DAEMONS)[number];

/** Bumped by hand whenever a document's content changes (it is in each document's description). */
export const DOCUMENTS_VERSION = 1;

export const DOCUMENT_NAMES = {
  stop: 'ChaosHarness-DaemonStop',
  kill: 'ChaosHarness-DaemonKill',
  restore: 'ChaosHarness-DaemonRestore',
} as const;
export type DocumentName = (typeof DOCUMENT_NAMES)[keyof typeof DOCUMENT_NAMES];

/** The restore timer unit: what harness/faults/daemon-kill.ts timerUnit() makes (run ids end in hex). */
export const TIMER_PATTERN = '^chaos-restore-(kubelet|kube-proxy|containerd|docker)-[a-z0-9]{1,32}$';
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
 * kube-proxy is a systemd unit on some AMIs and a DaemonSet container (the EKS add-on) on others; as a
 * container it cannot be kept down (kubelet restarts it), so it is stopped once and the script ends.
 */
const kubeProxyContainerBranch = [
  'if [ "{{ daemon }}" = kube-proxy ] && ! systemctl status kube-proxy >/dev/null 2>&1; then',
  '  if command -v crictl >/dev/null 2>&1 && [ -n "$(crictl ps --name kube-proxy -q 2>/dev/null)" ]; then',
  '    for c in $(crictl ps --name kube-proxy -q); do crictl stop "$c"; done',
  '    echo "chaos: kube-proxy runs as a DaemonSet container here; stopped it, kubelet restarts it (it cannot be kept down for the duration)"',
  '    exit 0',
  '  fi',
  '  echo "chaos: kube-proxy is neither a systemd unit nor a running container on this node" >&2',
  '  exit 3',
  'fi',
];

/** Arms the node-local timer that starts the daemon again even if the harness dies, and checks it is there. */
const armTimer = [
  'systemd-run --on-active={{ seconds }}s --unit={{ timer }} systemctl start {{ daemon }}',
  'if ! systemctl is-active --quiet {{ timer }}.timer; then',
  '  echo "chaos: the restore timer {{ timer }}.timer is not active after arming it; {{ daemon }} was not touched" >&2',
  '  exit 4',
  'fi',
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
  doc(DOCUMENT_NAMES.stop, content('arm a node-local restore timer, then `systemctl stop` the daemon', faultParams, 'stopDaemon', [
    'set -euo pipefail',
    ...kubeProxyContainerBranch,
    ...armTimer,
    'systemctl stop {{ daemon }}',
    'echo "chaos: {{ daemon }} stopped; node-local timer {{ timer }} starts it in {{ seconds }}s"',
  ])),
  doc(DOCUMENT_NAMES.kill, content('arm a node-local restore timer, then SIGKILL the daemon (systemd\'s Restart= policy decides when it returns)', faultParams, 'killDaemon', [
    'set -euo pipefail',
    ...kubeProxyContainerBranch,
    ...armTimer,
    // the docker unit's process is dockerd: `pgrep -x docker` would find the docker CLI, not the daemon
    'proc={{ daemon }}; if [ "$proc" = docker ]; then proc=dockerd; fi',
    'pid=$(pgrep -x "$proc") || { echo "chaos: {{ daemon }} is not running (no $proc process)" >&2; exit 3; }',
    'kill -9 $pid',
    'echo "chaos: {{ daemon }} (pid $pid) killed with SIGKILL; systemd\'s Restart= policy decides; timer {{ timer }} starts it in {{ seconds }}s at the latest"',
  ])),
  doc(DOCUMENT_NAMES.restore, content('start the daemon again and check it is active', { daemon: daemonParam }, 'restoreDaemon', [
    'set -euo pipefail',
    'if [ "{{ daemon }}" = kube-proxy ]; then',
    // systemctl status: 0 active, 3 inactive (a unit that exists), anything else: no such unit here.
    '  rc=0; systemctl status kube-proxy >/dev/null 2>&1 || rc=$?',
    '  if [ "$rc" != 0 ] && [ "$rc" != 3 ]; then echo "chaos: kube-proxy is not a systemd unit on this node (a DaemonSet container: kubelet restarts it)"; exit 0; fi',
    'fi',
    'systemctl start {{ daemon }}',
    'systemctl is-active {{ daemon }}',
    // a kubelet that Requires= the runtime (the docker AMIs) went down with it: start it too
    'if [ "{{ daemon }}" = docker ] || [ "{{ daemon }}" = containerd ]; then systemctl start kubelet; systemctl is-active kubelet; fi',
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
export function daemonRestoreCall(daemon: string): { documentName: DocumentName; parameters: Record<string, string> } {
  const parameters = { daemon };
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
