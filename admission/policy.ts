import picomatch from 'picomatch';
import type { AdmissionConfig, AdmissionMode, LabelSelector, PolicyRule } from './config.ts';

export interface ChosenPolicy {
  mode: AdmissionMode;
  /** The rule that decided, for messages ("rule prod", "default"). */
  rule: string;
  gates?: PolicyRule['gates'];
}

/** Kubernetes label-selector semantics: every matchLabels pair and every expression must hold. */
export function selectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels)) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
    if (e.operator === 'In' && !(has && e.values.includes(labels[e.key]!))) return false;
    if (e.operator === 'NotIn' && has && e.values.includes(labels[e.key]!)) return false;
  }
  return true;
}

/** The policy for a pod: exempt namespaces are off; then the first rule whose namespaces and selector match. */
export function choosePolicy(
  config: AdmissionConfig,
  namespace: string,
  labels: Readonly<Record<string, string>>,
): ChosenPolicy {
  if (config.exemptNamespaces.some((g) => picomatch.isMatch(namespace, g))) {
    return { mode: 'off', rule: `exempt namespace ${namespace}` };
  }
  for (const [i, rule] of config.rules.entries()) {
    if (rule.namespaces !== undefined && !rule.namespaces.some((g) => picomatch.isMatch(namespace, g))) continue;
    if (rule.selector !== undefined && !selectorMatches(rule.selector, labels)) continue;
    return {
      mode: rule.mode,
      rule: `rule ${rule.name ?? String(i + 1)}`,
      ...(rule.gates !== undefined ? { gates: rule.gates } : {}),
    };
  }
  return { mode: config.defaultMode, rule: 'default' };
}
