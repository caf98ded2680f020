// Vigil's version: what agents report in their hello, `vigil --version`
// prints, and the images are labelled with (package.json's, checked by the
// deploy tests).
export const VIGIL_VERSION = '0.1.0';
