// scaffold/: `sspi-emu new-package`, a package project made from the example package.
export { newPackage, ScaffoldError, type NewPackageOptions, type NewPackageResult } from './new-package.js';
export { packageNameProblem, NAME_PATTERN, RESERVED_NAMES } from './names.js';
export { packageSources, TemplateError, TEMPLATE_DIR } from './template.js';
