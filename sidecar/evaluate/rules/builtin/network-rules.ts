import { eventPort, isOutbound, OUTBOUND_ACTIONS, remoteIp } from '../../conditions.ts';
import type { Event } from '../../../../shared/events/index.ts';
import type { Rule } from '../../rule.ts';
import { builtinRule } from './define.ts';

/** A rule about where the workload connects: on connections opened and closed, its check sees only outbound ones. */
function outboundRule(
  meta: Omit<Parameters<typeof builtinRule>[0], 'on'>,
  check: (e: Event) => string | undefined,
): Rule {
  return builtinRule({ ...meta, on: OUTBOUND_ACTIONS }, (e) => (isOutbound(e) ? check(e) : undefined));
}

const METADATA = ['169.254.169.254', 'fd00:ec2::254', '169.254.170.2', '100.100.100.200'];
const who = (e: { process?: { name?: string; pid?: number } }): string =>
  e.process ? `${e.process.name ?? '?'} (pid ${e.process.pid})` : 'a process';

export const cloudMetadata = outboundRule(
  {
    id: 'cloud-metadata-access',
    name: 'Cloud metadata service access',
    description:
      'A connection to the instance metadata service (169.254.169.254, fd00:ec2::254, …): the way to steal cloud credentials.',
    severity: 8,
    category: 'credential-access',
  },
  (e) => {
    const ip = remoteIp(e);
    return ip && METADATA.includes(ip)
      ? `${who(e)} connected to the cloud metadata service ${ip}:${eventPort(e) ?? ''}`
      : undefined;
  },
);

export const kubernetesApi = outboundRule(
  {
    id: 'kubernetes-api-access',
    name: 'Kubernetes API access',
    description: 'A connection to the Kubernetes API server or a kubelet (ports 6443, 10250, 10255).',
    severity: 6,
    category: 'lateral-movement',
  },
  (e) => {
    const port = eventPort(e);
    return port === 6443 || port === 10250 || port === 10255
      ? `${who(e)} connected to ${remoteIp(e) ?? '?'}:${port} (Kubernetes API/kubelet)`
      : undefined;
  },
);

const STRATUM_PORTS = new Set([3333, 4444, 5555, 7777, 8888, 9999, 14433, 14444, 45560, 45700]);

export const miningPool = outboundRule(
  {
    id: 'crypto-mining-pool',
    name: 'Connection to a mining pool port',
    description: 'An outbound connection to a port used by stratum mining pools (3333, 4444, 5555, 7777, 14444, …).',
    severity: 7,
    category: 'impact',
    exceptions: [{ description: 'loopback traffic inside the pod', match: { cidr: '127.0.0.0/8' } }],
  },
  (e) => {
    const port = eventPort(e);
    const ip = remoteIp(e);
    if (port === undefined || !STRATUM_PORTS.has(port)) return undefined;
    return `${who(e)} connected to ${ip ?? '?'}:${port}, a stratum mining pool port`;
  },
);
