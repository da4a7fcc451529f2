export { provenancePredicate, testResultPredicate, buildStatements } from './build-statements.ts';
export type { ProvenanceInput, StatementParts } from './build-statements.ts';
