/**
 * Settings that name a model, which third-party apps' migrations use instead of the model
 * (`to=oauth2_settings.APPLICATION_MODEL`, `swappable_dependency(oauth2_settings.APPLICATION_MODEL)`),
 * with their defaults. rollsafe reads no settings, so each is its default, as in a project that
 * does not set it (as `getattr(settings, "NAME", default)` is read). `AUTH_USER_MODEL` is apart:
 * `--auth-user-model` sets it.
 *
 * Sources (each app's settings module):
 * - django-oauth-toolkit (`oauth2_provider/settings.py`, read in Debian's
 *   python3-django-oauth-toolkit 1.7.0): `oauth2_settings.APPLICATION_MODEL` is
 *   `getattr(settings, "OAUTH2_PROVIDER_APPLICATION_MODEL", "oauth2_provider.Application")`, and
 *   likewise the access token, ID token, grant and refresh token models.
 */

const OAUTH2_MODELS: [string, string][] = [
  ["APPLICATION_MODEL", "oauth2_provider.Application"],
  ["ACCESS_TOKEN_MODEL", "oauth2_provider.AccessToken"],
  ["ID_TOKEN_MODEL", "oauth2_provider.IDToken"],
  ["GRANT_MODEL", "oauth2_provider.Grant"],
  ["REFRESH_TOKEN_MODEL", "oauth2_provider.RefreshToken"],
];

/** Qualified name of the setting (as the parser qualifies a name) -> its default `app_label.Model`. */
const MODEL_SETTINGS: ReadonlyMap<string, string> = new Map(
  OAUTH2_MODELS.flatMap(([name, model]): [string, string][] => [
    [`oauth2_provider.settings.oauth2_settings.${name}`, model],
    [`django.conf.settings.OAUTH2_PROVIDER_${name}`, model],
  ]),
);

/** The default model (`app_label.Model`) of a model setting a migration names, or null. */
export function modelSettingDefault(qualified: string): string | null {
  return MODEL_SETTINGS.get(qualified) ?? null;
}
