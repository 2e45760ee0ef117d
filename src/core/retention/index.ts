/** Policy retention, for the CLI and the VS Code side ("Apply Retention…" uses the same preview). */
export { applyPolicy, checkPolicy, describePolicy, newestFirst, POLICY_RULES, type RetentionPolicy, type PolicyDecision } from './policy';
export { planRetention, isVerified, NEWEST_VERIFIED, type PrunePlan, type PrunePlanItem, type KeptItem, type PlanOptions } from './plan';
export { periodKey, machineTimeZone, checkTimeZone, isoWeek } from './periods';
export { describePlan, parsePolicyText, policyText } from './describe';
