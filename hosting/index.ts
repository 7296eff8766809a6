// Hosting packages: the one way the LSA and the user-mode host call a package entry point, how
// either reads what a package hands back without trusting it (values.ts), and how either imports a
// new version of a package module (module-versions.ts).
export { CallPoints, type CallPointFields, type CallPointHook } from './call-points.js';
export { badResult, callPackage, packageHost, packageStack, statusOf, type Outcome, type PackageCall, type PackageHost } from './package-call.js';
export { describeThrown, describeValue, valueKind } from './values.js';
export { ensureVersionHooks, moduleVersion, versionedUrl, VERSION_PARAM } from './module-versions.js';
