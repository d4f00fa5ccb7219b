"""The console's words in English and French. The language is the `lang` cookie (the switch in every
page's header) or else the browser's Accept-Language; English when neither says French."""

from __future__ import annotations

from collections.abc import Callable

LANGS = ("en", "fr")

MESSAGES: dict[str, tuple[str, str]] = {
    "app": ("Library console", "Console de la bibliothèque"),
    "skip": ("Skip to content", "Aller au contenu"),
    "nav": ("Main menu", "Menu principal"),
    "switch": ("Français", "English"),
    "switch_label": ("Lire en français", "Read in English"),
    "dashboard": ("Dashboard", "Tableau de bord"),
    "licences": ("Licences", "Licences"),
    "patrons": ("Patrons", "Usagers"),
    "settings": ("Settings", "Paramètres"),
    "team": ("Staff", "Équipe"),
    "audit": ("Audit log", "Journal d'audit"),
    "sign_out": ("Sign out", "Se déconnecter"),
    "signed_in_as": ("Signed in as", "Connecté en tant que"),
    # sign-in
    "sign_in": ("Sign in", "Se connecter"),
    "email": ("Email", "Adresse électronique"),
    "password": ("Password", "Mot de passe"),
    "password_again": ("Password again", "Mot de passe (encore)"),
    "password_hint": ("At least 12 characters.", "Au moins 12 caractères."),
    "continue": ("Continue", "Continuer"),
    "code_title": ("Authentication code", "Code d'authentification"),
    "code": ("6-digit code or recovery code", "Code à 6 chiffres ou code de secours"),
    "code_enrol": ("6-digit code the app shows", "Code à 6 chiffres affiché par l'application"),
    "code_hint": ("From your authenticator app.", "Celui de votre application d'authentification."),
    "verify": ("Verify", "Vérifier"),
    "forgot": ("Forgot your password?", "Mot de passe oublié ?"),
    "forgot_title": ("Reset your password", "Réinitialiser le mot de passe"),
    "send_link": ("Send me a link", "M'envoyer un lien"),
    "reset_sent": ("If this address belongs to an active account, a link is on its way. It works for one hour.",
                   "Si cette adresse correspond à un compte actif, un lien vient d'être envoyé. Il vaut une heure."),
    "reset_title": ("Choose a new password", "Choisir un nouveau mot de passe"),
    "reset_done": ("Password changed. Every session was closed: sign in again.",
                   "Mot de passe changé. Toutes les sessions ont été fermées : reconnectez-vous."),
    "save_password": ("Save the password", "Enregistrer le mot de passe"),
    "welcome_title": ("Welcome: set up your account", "Bienvenue : créez votre accès"),
    "welcome_intro": ("Choose a password, then add this account to an authenticator app (any RFC 6238 "
                      "app) by scanning the QR code or typing the secret, and enter the code it shows.",
                      "Choisissez un mot de passe, puis ajoutez ce compte à une application d'authentification "
                      "(toute application RFC 6238) en scannant le code QR ou en saisissant la clé, et "
                      "entrez le code qu'elle affiche."),
    "qr_alt": ("QR code to add the account to an authenticator app",
               "Code QR pour ajouter le compte à une application d'authentification"),
    "secret": ("Secret key", "Clé secrète"),
    "activate": ("Activate my account", "Activer mon compte"),
    "recovery_title": ("Your recovery codes", "Vos codes de secours"),
    "recovery_intro": ("Keep these codes somewhere safe. Each one signs you in once if you lose your "
                       "authenticator. They are shown only now.",
                       "Gardez ces codes en lieu sûr. Chacun permet une connexion si vous perdez votre "
                       "application d'authentification. Ils ne seront plus affichés."),
    "to_dashboard": ("Go to the dashboard", "Aller au tableau de bord"),
    # errors
    "error_title": ("Something is wrong", "Quelque chose ne va pas"),
    "bad_credentials": ("Wrong email or password.", "Adresse ou mot de passe incorrect."),
    "bad_code": ("Wrong code.", "Code incorrect."),
    "code_already_used": ("This code was already used: wait for the next one.",
                          "Ce code a déjà servi : attendez le suivant."),
    "throttled": ("Too many failed attempts. Try again in {minutes} minutes.",
                  "Trop d'essais manqués. Réessayez dans {minutes} minutes."),
    "no_pending_sign_in": ("Your sign-in expired: start again.", "Votre connexion a expiré : recommencez."),
    "csrf": ("This form expired or did not come from the console. Reload the page and try again.",
             "Ce formulaire a expiré ou ne vient pas de la console. Rechargez la page et recommencez."),
    "invalid_link": ("This link is no longer valid.", "Ce lien n'est plus valable."),
    "passwords_differ": ("The two passwords differ.", "Les deux mots de passe diffèrent."),
    "password_too_short": ("The password needs at least 12 characters.",
                           "Le mot de passe doit compter au moins 12 caractères."),
    "password_too_long": ("The password is too long.", "Le mot de passe est trop long."),
    "password_is_email": ("The password cannot be your email.", "Le mot de passe ne peut être votre adresse."),
    "not_found": ("Not found.", "Introuvable."),
    "forbidden": ("This page is for the network admin.", "Cette page est réservée à l'administrateur du réseau."),
    "invalid_email": ("This is not an email address.", "Ce n'est pas une adresse électronique."),
    "email_taken": ("This email already has an account.", "Cette adresse a déjà un compte."),
    "unknown_library": ("Unknown member library.", "Bibliothèque membre inconnue."),
    "invalid_limit": ("Limits are whole numbers (empty: no limit); the loan length 1 to 365 days.",
                      "Les limites sont des nombres entiers (vide : aucune) ; la durée de prêt de 1 à 365 jours."),
    "invalid_ip": ("Enter at least one address or range.", "Saisissez au moins une adresse ou plage."),
    "refused": ("Refused: {detail}", "Refusé : {detail}"),
    "invalid_ip_range": ("Not a valid address or range: {text}", "Adresse ou plage non valable : {text}"),
    "ip_range_too_large": ("A range holds at most 1000 addresses: {text}",
                           "Une plage compte au plus 1000 adresses : {text}"),
    "page_not_found": ("Page not found.", "Page introuvable."),
    # dashboard
    "active_loans": ("Active loans", "Prêts en cours"),
    "live_licences": ("Licences in use", "Licences en cours"),
    "nearly_spent": ("Licences nearly spent (3 loans left or fewer)", "Licences presque épuisées (3 prêts ou moins)"),
    "ending": ("Licences ending within 30 days", "Licences qui finissent dans les 30 jours"),
    "loans_per_day": ("Loans per day this month", "Prêts par jour ce mois-ci"),
    "day": ("Day", "Jour"),
    "total": ("Total", "Total"),
    "loans": ("Loans", "Prêts"),
    "none": ("None.", "Aucune."),
    # licences
    "title": ("Title", "Titre"),
    "ean": ("EAN", "EAN"),
    "nta": ("Loans left", "Prêts restants"),
    "downloads_free": ("Downloads free", "Téléchargements libres"),
    "streams_free": ("Streams free", "Lectures en ligne libres"),
    "begins": ("First loan", "Premier prêt"),
    "ends": ("Ends", "Fin"),
    "lending_url": ("Lending URL", "URL de prêt"),
    "status": ("Status", "Statut"),
    "no_licences": ("No licence yet.", "Aucune licence pour l'instant."),
    # patrons
    "search_title": ("Find a patron", "Rechercher un usager"),
    "search_label": ("Patron identifier or email", "Identifiant ou adresse de l'usager"),
    "search": ("Search", "Rechercher"),
    "no_patron": ("No patron with this identifier or email.", "Aucun usager avec cet identifiant ou cette adresse."),
    "patron": ("Patron", "Usager"),
    "identifier": ("Identifier", "Identifiant"),
    "api_key": ("API key", "Clé API"),
    "show_key": ("Show the API key", "Afficher la clé API"),
    "regenerate_key": ("Regenerate the API key", "Régénérer la clé API"),
    "key_regenerated": ("New API key: the previous one no longer works.",
                        "Nouvelle clé API : l'ancienne ne fonctionne plus."),
    "limits": ("Limits", "Limites"),
    "max_active": ("Loans at once", "Prêts simultanés"),
    "per_day": ("Loans per day", "Prêts par jour"),
    "per_month": ("Loans per month", "Prêts par mois"),
    "today": ("today", "aujourd'hui"),
    "this_month": ("this month", "ce mois-ci"),
    "no_limit": ("no limit", "aucune limite"),
    "courtesy": ("Courtesy loans available", "Prêts de courtoisie disponibles"),
    "courtesy_button": ("Courtesy loan", "Prêt de courtoisie"),
    "courtesy_hint": ("Lets the patron borrow once past their limits (when a return failed, say).",
                      "Permet à l'usager d'emprunter une fois au-delà de ses limites (après un retour "
                      "impossible, par exemple)."),
    "courtesy_done": ("Courtesy loan granted.", "Prêt de courtoisie accordé."),
    "loans_tab": ("Loans", "Prêts"),
    "history_tab": ("History", "Historique"),
    "book": ("Book", "Livre"),
    "borrowed": ("Borrowed", "Emprunté le"),
    "due": ("Due", "À rendre le"),
    "returned_on": ("Ended", "Terminé le"),
    "state": ("State", "État"),
    "return_loan": ("Return the loan", "Retourner le prêt"),
    "return_of": ("Return the loan of {title}", "Retourner le prêt de {title}"),
    "returned": ("The loan was returned: its place is free again.", "Le prêt est rendu : sa place est libérée."),
    "no_loans": ("No active loan.", "Aucun prêt en cours."),
    "no_history": ("No ended loan.", "Aucun prêt terminé."),
    "state_active": ("active", "en cours"),
    "state_returned": ("returned", "rendu"),
    "state_expired": ("expired", "expiré"),
    "already_ended": ("This loan had already ended.", "Ce prêt était déjà terminé."),
    "loan_returned": ("This loan had already ended.", "Ce prêt était déjà terminé."),
    "loan_expired": ("This loan had already ended.", "Ce prêt était déjà terminé."),
    "loan_not_found": ("Not found.", "Introuvable."),
    # settings
    "v1_limits": ("Patron limits (library API v1)", "Limites par usager (API v1)"),
    "default_days": ("Default loan length (days)", "Durée de prêt par défaut (jours)"),
    "limit_hint": ("Empty: no limit.", "Vide : aucune limite."),
    "save": ("Save", "Enregistrer"),
    "saved": ("Saved.", "Enregistré."),
    "ips_title": ("Declared IP addresses (on-site reading)", "Adresses IP déclarées (lecture sur place)"),
    "ips_label": ("Addresses or ranges, one per line (a range: first,last; at most 1000 addresses)",
                  "Adresses ou plages, une par ligne (une plage : première,dernière ; 1000 adresses au plus)"),
    "declare": ("Declare", "Déclarer"),
    "declared": ("Declared.", "Déclaré."),
    "already_declared": ("Already declared: {entries}", "Déjà déclaré : {entries}"),
    "no_ips": ("No address declared.", "Aucune adresse déclarée."),
    "keys_title": ("Keys and secrets", "Clés et secrets"),
    "rotate_api_key": ("Rotate the v1 API key", "Renouveler la clé de l'API v1"),
    "rotate_secret": ("Rotate the callback secret", "Renouveler le secret des rappels"),
    "rotate_hint": ("The new value is shown once; the old one stops working at once (within a minute).",
                    "La nouvelle valeur n'est affichée qu'une fois ; l'ancienne cesse de fonctionner "
                    "(en une minute au plus)."),
    "new_api_key": ("New v1 API key", "Nouvelle clé de l'API v1"),
    "new_secret": ("New callback secret", "Nouveau secret des rappels"),
    # staff
    "invite_title": ("Invite a staff member", "Inviter un membre de l'équipe"),
    "role": ("Role", "Rôle"),
    "role_admin": ("Network admin", "Administrateur du réseau"),
    "role_staff": ("Staff", "Personnel"),
    "library": ("Member library", "Bibliothèque membre"),
    "whole_network": ("The whole network", "Tout le réseau"),
    "invite": ("Send the invitation", "Envoyer l'invitation"),
    "invited": ("Invitation sent.", "Invitation envoyée."),
    "state_invited": ("invited", "invité"),
    "state_disabled": ("disabled", "désactivé"),
    "disable": ("Disable", "Désactiver"),
    "enable": ("Enable", "Réactiver"),
    "staff_list": ("Staff of the network", "Équipe du réseau"),
    # audit
    "when": ("When", "Quand"),
    "who": ("Who", "Qui"),
    "action": ("Action", "Action"),
    "target": ("On", "Sur"),
    "detail": ("Detail", "Détail"),
    "no_audit": ("Nothing yet.", "Rien pour l'instant."),
}



# Distributor console (services/distributor.py)
MESSAGES.update({
    "summary_day": ("Day", "Jour"),
    "show": ("Show", "Afficher"),
    "summary_email": ("The summary by email", "Le récapitulatif par courriel"),
    "summary_email_hint": (
        "Each morning (your time zone), the summary of the day before; leave the email empty to stop.",
        "Chaque matin (votre fuseau horaire), le récapitulatif de la veille ; videz l'adresse pour l'arrêter."),
    "language": ("Language", "Langue"),
    "time_zone": ("Time zone (IANA name)", "Fuseau horaire (nom IANA)"),
    "subscribed": ("Saved.", "Enregistré."),
    "other_console": ("This page belongs to the other console (libraries or distributors).",
                      "Cette page appartient à l'autre console (bibliothèques ou diffuseurs)."),
    "app_distributor": ("Distributor console", "Console du diffuseur"),
    "offers": ("Offers", "Offres"),
    "summary": ("Daily summary", "Récapitulatif quotidien"),
    "new_offer": ("New offer", "Nouvelle offre"),
    "edit_offer": ("Edit the offer", "Modifier l'offre"),
    "no_offers": ("No offer yet.", "Aucune offre pour l'instant."),
    "ean13": ("EAN-13", "EAN-13"),
    "ean_hint": ("13 digits, the last one a check digit.", "13 chiffres, le dernier étant la clé de contrôle."),
    "offer_title": ("Title", "Titre"),
    "publisher": ("Publisher", "Éditeur"),
    "availability": ("Availability (ONIX list 65)", "Disponibilité (liste ONIX 65)"),
    "price": ("Price to libraries, tax included", "Prix aux bibliothèques, TTC"),
    "price_hint": ("For example 12.50", "Par exemple 12,50"),
    "currency": ("Currency", "Devise"),
    "tax_rate": ("VAT rate, in hundredths of a percent", "Taux de TVA, en centièmes de pour cent"),
    "tax_hint": ("550 is 5.5 %", "550 vaut 5,5 %"),
    "licence_model": ("Licence model", "Modèle de licence"),
    "model_loans": ("Loans per licence", "Prêts par licence"),
    "model_time_limited": ("Time-limited (unlimited loans)", "Limitée dans le temps (prêts illimités)"),
    "model_perpetual": ("Perpetual within limits", "Perpétuelle dans la limite des prêts"),
    "terms": ("Licence terms", "Conditions de la licence"),
    "loans_total": ("Loans in all (per licence)", "Nombre total de prêts (par licence)"),
    "downloads": ("Simultaneous downloads", "Téléchargements simultanés"),
    "onsite_streams": ("On-site streams", "Consultations sur place"),
    "offsite_streams": ("Off-site streams", "Consultations à distance"),
    "licence_days": ("Licence days", "Durée de la licence (jours)"),
    "max_loan_days": ("Maximum loan days", "Durée maximale d'un prêt (jours)"),
    "model_hint": ("Time-limited ignores the loans; perpetual ignores the licence days.",
                   "« Limitée dans le temps » ignore le nombre de prêts ; « perpétuelle » ignore la durée."),
    "save_offer": ("Publish the offer", "Publier l'offre"),
    "offer_saved": ("The offer is published: it is in the next getOffers update file.",
                    "L'offre est publiée : elle figure dans le prochain fichier de mise à jour getOffers."),
    "epub": ("EPUB file", "Fichier EPUB"),
    "epub_present": ("An EPUB is stored for this offer.", "Un EPUB est enregistré pour cette offre."),
    "epub_missing": ("No EPUB yet.", "Pas encore d'EPUB."),
    "upload": ("Upload", "Téléverser"),
    "epub_saved": ("The EPUB is stored.", "L'EPUB est enregistré."),
    "sales_points": ("Sales points", "Points de vente"),
    "no_sales": ("Not sold yet.", "Pas encore vendu."),
    "reseller": ("Reseller", "Revendeur"),
    "collectivity": ("Collectivity", "Collectivité"),
    "ordered": ("Ordered", "Commandé le"),
    "licences_count": ("Licences", "Licences"),
    "loans_used": ("Loans used", "Prêts consommés"),
    "loans_left": ("Loans left", "Prêts restants"),
    "active_loans": ("Active loans", "Prêts en cours"),
    "status": ("Status", "Statut"),
    "updated": ("Updated", "Mis à jour"),
    "totals": ("Totals", "Totaux"),
    "ean_invalid": ("This EAN-13 is not valid (13 digits and a check digit).",
                    "Cet EAN-13 n'est pas valide (13 chiffres et une clé de contrôle)."),
    "offer_exists": ("This EAN is already offered: edit it instead.", "Cet EAN est déjà proposé : modifiez-le."),
    "sync_busy": ("A catalogue sync is running for your offers: try again in a minute.",
                  "Une synchronisation du catalogue est en cours : réessayez dans une minute."),
    "epub_invalid": ("This file is not an EPUB.", "Ce fichier n'est pas un EPUB."),
    "offer_invalid": ("The offer is not valid: {detail}", "L'offre n'est pas valable : {detail}"),
    "offer_rejected": ("The catalogue refused the offer: {detail}", "Le catalogue a refusé l'offre : {detail}"),
    "tz_invalid": ("Unknown time zone: {zone}", "Fuseau horaire inconnu : {zone}"),
    "unknown_offer": ("The EAN13 {ean13} does not exist for distributor GLN {gln_distributor}.",
                      "L'EAN13 {ean13} n'existe pas pour le distributeur GLN {gln_distributor}."),
    "not_authorized": ("This account is not a distributor's.", "Ce compte n'est pas celui d'un distributeur."),
    "too_many_signins": ("Too many failed sign-ins: try again later.",
                         "Trop de connexions manquées : réessayez plus tard."),
    "api_hint": ("The same figures as JSON: GET /distributor/sales/{ean} with HTTP Basic (GLN:password).",
                 "Les mêmes chiffres en JSON : GET /distributor/sales/{ean} avec HTTP Basic (GLN:mot de passe)."),
})


def pick(cookie: str | None, accept_language: str | None) -> str:
    """The `lang` cookie when it names a language of ours; else the first of ours the browser accepts
    (by q-value); else English."""
    if cookie in LANGS:
        return str(cookie)
    best, best_q = "en", 0.0
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        lang = tag.strip().lower()[:2]
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if lang in LANGS and q > best_q:
            best, best_q = lang, q
    return best


def translator(lang: str) -> Callable[..., str]:
    index = LANGS.index(lang) if lang in LANGS else 0

    def t(key: str, **values: object) -> str:
        text = MESSAGES.get(key, (key, key))[index]
        return text.format(**values) if values else text

    return t
