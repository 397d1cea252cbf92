/**
 * NervesHub matches a deployment group's version condition against the device's `nerves_fw_version` with Elixir's
 * `Version.match?`, which raises on a version that is not SemVer 2.0.0; the join then crashes, again at every
 * rejoin, for as long as an active group of the device's platform and architecture has a condition (nerves_hub_web
 * lib/nerves_hub/managed_deployments.ex lines 564-568, called from `set_deployment_group`, lines 578-599).
 */

// semver.org's pattern for SemVer 2.0.0: no leading zeros, optional pre-release and build parts.
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** Why `version` will crash NervesHub's join (with the fix), or undefined for a SemVer 2.0.0 version. */
export function versionWarning(version: string | undefined): string | undefined {
  if (version === undefined || SEMVER.test(version)) return undefined;
  return (
    `nerves_fw_version ${JSON.stringify(version.length > 60 ? `${version.slice(0, 60)}…` : version)} is not a ` +
    'SemVer 2.0.0 version (MAJOR.MINOR.PATCH, e.g. "1.4.0"): NervesHub crashes the join of such a device whenever ' +
    'a deployment group of its platform and architecture has a version condition; give the firmware a SemVer ' +
    'version (meta-version in its fwup.conf) or set nerves_fw_version in [metadata.values]'
  );
}

/** A join NervesHub answered with `join crashed`: the server raised while it handled the join. */
export function isJoinCrash(error: unknown): boolean {
  const response = (error as { response?: unknown } | null)?.response;
  return (response as { reason?: unknown } | null)?.reason === 'join crashed';
}
