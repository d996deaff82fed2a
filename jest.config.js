/**
 * Jest: TypeScript through ts-jest. jose 6 ships ES modules only, which jest cannot require
 * on Node 20, so its files are transpiled to CommonJS like our own.
 */
module.exports = {
  // Node's, and at each file's end it closes what the file started and left open (test/environment.ts).
  testEnvironment: '<rootDir>/test/environment.ts',
  transform: {
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
    '^.+/node_modules/jose/.+\\.js$': ['ts-jest', { diagnostics: false, tsconfig: { allowJs: true, isolatedModules: true } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  // A backstop for a hang, not a deadline of the work: every wait, source and OneID call in the tests has its own.
  // Hooks build worlds within it, and no file sets a shorter one: a world's build grows with its people and the
  // machine's load: 500 people took 67-72 s on MariaDB at a load of 24 on 2 cores, and 900 passed 120 s on MariaDB
  // at 32 (sources.test.ts, which set 120 s, failed every test so). The largest world has 1,400.
  testTimeout: 600000,
  // Every temporary directory of a run under one, removed at its end (test/helpers/tmp.ts).
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
};
