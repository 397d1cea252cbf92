export const PACKAGE_NAME = '@nerves-hub-link/test-server';
