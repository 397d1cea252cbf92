export const PACKAGE_NAME = '@nerves-hub-link/daemon';
