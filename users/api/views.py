"""HTTP for accounts, profiles, specialties and the doctor directory. Rules live in services."""

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import filters, generics, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cybermed.api.filters import NOT_FILTERS, FilterBackend, only_pagination
from cybermed.api.lists import ValuesListMixin
from cybermed.api.parsers import JSONParser
from cybermed.api.schema import error
from users import directory_count, selectors, services, social
from users.api.filters import DoctorFilter
from users.api.permissions import IsDoctor, IsPatient, IsStaff
from users.api.serializers import (
    DoctorProfileSerializer,
    DoctorRows,
    DoctorSerializer,
    EmailSerializer,
    LoginSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PatientProfileSerializer,
    RefreshSerializer,
    RegisterSerializer,
    SocialLoginSerializer,
    SpecialtySerializer,
    TokenPairSerializer,
    UidTokenSerializer,
    UserSerializer,
    UserUpdateSerializer,
)
from users.authentication import JWTAuthentication
from users.models import DoctorProfile, PatientProfile, User

NO_PROFILE = error("You have no profile yet: create it with POST.")


class PublicView(APIView):
    """An endpoint for anonymous callers: a stale Authorization header must not get in the way."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get_authenticate_header(self, request: Request) -> str:
        # Without this DRF turns our 401s into 403s, since no authenticator is configured here.
        return JWTAuthentication().authenticate_header(request)


# --- Accounts ----------------------------------------------------------------------------------------


class RegisterView(PublicView):
    serializer_class = RegisterSerializer
    throttle_scope = "register"

    @extend_schema(responses={201: UserSerializer})
    def post(self, request: Request) -> Response:
        """Sign up as a patient or a doctor; an activation email follows."""
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_register(**serializer.validated_data)
        return Response(UserSerializer(user, context={"request": request}).data, status=status.HTTP_201_CREATED)


class LoginView(PublicView):
    serializer_class = LoginSerializer
    throttle_scope = "login"

    @extend_schema(responses={200: TokenPairSerializer, 401: error("`invalid_credentials` or `account_inactive`.")})
    def post(self, request: Request) -> Response:
        """Exchange email and password for an access and a refresh token.

        401 `code`: `invalid_credentials`, or `account_inactive` when the password is right but the
        account has not been activated.
        """
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_authenticate(**serializer.validated_data)
        return Response(services.token_pair_for(user=user))


PROVIDER_UNAVAILABLE = {
    "detail": "The sign-in provider cannot be reached; try again shortly.",
    "code": "provider_unavailable",
}


class SocialLoginView(PublicView):
    serializer_class = SocialLoginSerializer
    throttle_scope = "login"

    @extend_schema(
        responses={
            200: TokenPairSerializer,
            401: error("`invalid_id_token`, `email_not_verified`, `account_exists` or `account_inactive`."),
            503: error("`provider_unavailable`: the provider's keys could not be fetched."),
        }
    )
    def post(self, request: Request, provider: str) -> Response:
        """Exchange a Google, Apple or OpenID Connect ID token for an access and a refresh token.

        The same tokens as password login. `provider` is `google`, `apple` or `oidc` (404 unless
        configured). The token's signature (the provider's published keys), issuer, audience (our client
        id), expiry and, when `nonce` is sent, nonce are checked, and the email must be verified. A new
        email creates an activated patient; an existing account is linked only if it has no password or
        was created by the same provider (else 401 `account_exists`: sign in with the password).
        """
        configured = social.providers().get(provider)
        if configured is None:
            raise Http404
        serializer = SocialLoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            identity = social.verify_id_token(provider=configured, **serializer.validated_data)
        except social.ProviderUnavailable:
            return Response(PROVIDER_UNAVAILABLE, status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "30"})
        user = services.social_login(identity=identity)
        return Response(services.token_pair_for(user=user))


class RefreshView(PublicView):
    serializer_class = RefreshSerializer
    throttle_scope = "refresh"

    @extend_schema(responses={200: TokenPairSerializer, 401: error("The refresh token is invalid, expired or spent.")})
    def post(self, request: Request) -> Response:
        """Spend a refresh token for a new pair.

        Each refresh token works once.
        """
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(services.token_refresh(refresh=serializer.validated_data["refresh"]))


class LogoutView(APIView):
    serializer_class = RefreshSerializer

    @extend_schema(responses={204: None})
    def post(self, request: Request) -> Response:
        """Revoke one of your refresh tokens.

        Someone else's, or an invalid one, is a 400.
        """
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.token_revoke(user=request.user, refresh=serializer.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    parser_classes = [JSONParser, MultiPartParser]
    serializer_class = UserSerializer

    def get(self, request: Request) -> Response:
        """Your own account."""
        return Response(UserSerializer(request.user, context={"request": request}).data)

    @extend_schema(request=UserUpdateSerializer)
    def patch(self, request: Request) -> Response:
        """Change names, gender, phone number, bio or the profile picture (multipart; null removes it)."""
        serializer = UserUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.user_update(user=request.user, data=serializer.validated_data)
        return Response(UserSerializer(user, context={"request": request}).data)


class PasswordChangeView(APIView):
    serializer_class = PasswordChangeSerializer

    @extend_schema(responses={204: None})
    def post(self, request: Request) -> Response:
        """Change your password; every refresh token issued before stops working."""
        serializer = PasswordChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_change_password(user=request.user, **serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetView(PublicView):
    serializer_class = EmailSerializer
    throttle_scope = "password_reset"

    @extend_schema(responses={204: None})
    def post(self, request: Request) -> Response:
        """Ask for a password-reset email.

        The answer is the same whether or not the account exists.
        """
        serializer = EmailSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_request_password_reset(email=serializer.validated_data["email"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetConfirmView(PublicView):
    serializer_class = PasswordResetConfirmSerializer

    @extend_schema(responses={204: None})
    def post(self, request: Request) -> Response:
        """Set a new password with the `uid` and `token` from the reset email (works once)."""
        serializer = PasswordResetConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_reset_password(**serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ActivateView(PublicView):
    serializer_class = UidTokenSerializer

    @extend_schema(responses={204: None})
    def post(self, request: Request) -> Response:
        """Activate an account with the `uid` and `token` from the activation email."""
        serializer = UidTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_activate(**serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ActivationResendView(PublicView):
    serializer_class = EmailSerializer
    throttle_scope = "activation_resend"

    @extend_schema(responses={204: None})
    def post(self, request: Request) -> Response:
        """Send the activation email again (only accounts never activated get one; the answer is always 204)."""
        serializer = EmailSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_activation_resend(email=serializer.validated_data["email"])
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Own profiles ------------------------------------------------------------------------------------


@extend_schema(tags=["profiles"])
class DoctorProfileView(APIView):
    """The calling doctor's own profile."""

    permission_classes = [IsDoctor]
    serializer_class = DoctorProfileSerializer

    def get_object(self) -> DoctorProfile:
        return get_object_or_404(DoctorProfile.objects.select_related("specialty"), user=self.request.user)

    @extend_schema(responses={200: DoctorProfileSerializer, 404: NO_PROFILE})
    def get(self, request: Request) -> Response:
        """Your doctor profile."""
        return Response(DoctorProfileSerializer(self.get_object()).data)

    @extend_schema(responses={200: DoctorProfileSerializer, 201: DoctorProfileSerializer})
    def post(self, request: Request) -> Response:
        """Create your doctor profile (201), or update the fields you send (200)."""
        serializer = DoctorProfileSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        profile, created = services.doctor_profile_upsert(user=request.user, data=serializer.validated_data)
        return Response(DoctorProfileSerializer(profile).data, status=201 if created else 200)

    @extend_schema(responses={200: DoctorProfileSerializer, 404: NO_PROFILE})
    def put(self, request: Request) -> Response:
        """Replace your doctor profile; omitted fields keep their values or defaults."""
        return self._update(request, partial=False)

    @extend_schema(responses={200: DoctorProfileSerializer, 404: NO_PROFILE})
    def patch(self, request: Request) -> Response:
        """Change some fields of your doctor profile."""
        return self._update(request, partial=True)

    def _update(self, request: Request, *, partial: bool) -> Response:
        serializer = DoctorProfileSerializer(self.get_object(), data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        profile, _ = services.doctor_profile_upsert(user=request.user, data=serializer.validated_data)
        return Response(DoctorProfileSerializer(profile).data)


@extend_schema(tags=["profiles"])
class PatientProfileView(APIView):
    """The calling patient's own profile."""

    permission_classes = [IsPatient]
    serializer_class = PatientProfileSerializer

    def get_object(self) -> PatientProfile:
        return get_object_or_404(PatientProfile, user=self.request.user)

    @extend_schema(responses={200: PatientProfileSerializer, 404: NO_PROFILE})
    def get(self, request: Request) -> Response:
        """Your patient profile."""
        return Response(PatientProfileSerializer(self.get_object()).data)

    @extend_schema(responses={200: PatientProfileSerializer, 201: PatientProfileSerializer})
    def post(self, request: Request) -> Response:
        """Create your patient profile (201), or update the fields you send (200)."""
        serializer = PatientProfileSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        profile, created = services.patient_profile_upsert(user=request.user, data=serializer.validated_data)
        return Response(PatientProfileSerializer(profile).data, status=201 if created else 200)

    @extend_schema(responses={200: PatientProfileSerializer, 404: NO_PROFILE})
    def put(self, request: Request) -> Response:
        """Replace your patient profile; omitted fields keep their values."""
        return self._update(request, partial=False)

    @extend_schema(responses={200: PatientProfileSerializer, 404: NO_PROFILE})
    def patch(self, request: Request) -> Response:
        """Change some fields of your patient profile."""
        return self._update(request, partial=True)

    def _update(self, request: Request, *, partial: bool) -> Response:
        serializer = PatientProfileSerializer(self.get_object(), data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        profile, _ = services.patient_profile_upsert(user=request.user, data=serializer.validated_data)
        return Response(PatientProfileSerializer(profile).data)


# --- Directory ---------------------------------------------------------------------------------------


@extend_schema(tags=["directory"])
class SpecialtyListView(generics.ListAPIView):
    """Medical specialties, by name."""

    serializer_class = SpecialtySerializer
    filter_backends: list = []

    def get_queryset(self) -> QuerySet:
        return selectors.specialty_list()


@extend_schema(tags=["directory"])
class DoctorViewSet(ValuesListMixin, viewsets.ReadOnlyModelViewSet):
    """The doctor directory. `{id}` is the doctor's user id.

    list:
    Verified doctors

    retrieve:
    One verified doctor
    """

    serializer_class = DoctorSerializer
    list_rows = DoctorRows
    filter_backends = [FilterBackend, filters.SearchFilter]
    filterset_class = DoctorFilter
    search_fields = ["first_name", "last_name"]

    def get_queryset(self) -> QuerySet[User]:
        if self.action == "verify":
            return selectors.doctor_list_all()
        return selectors.doctor_list_visible().order_by("last_name", "first_name", "pk")

    def list_count(self, queryset: QuerySet[User]) -> int:
        # The whole directory's count and each specialty's are cached (users.directory_count); a searched,
        # ordered or otherwise filtered one is counted.
        params = self.request.query_params
        if only_pagination(self.request):
            return directory_count.cached_count(queryset.count)
        specialty = params.get("specialty", "")
        # The filter has found that specialty (or answered 400): the id is a plain number.
        if set(params) - NOT_FILTERS == {"specialty"} and specialty.isascii() and specialty.isdigit():
            return directory_count.cached_count(queryset.count, specialty_id=int(specialty))
        return queryset.count()

    @extend_schema(request=None)
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated, IsStaff])
    def verify(self, request: Request, pk: str | None = None) -> Response:
        """Verify a doctor (staff)

        Marks the doctor verified, so that they show in the directory and can be booked.
        """
        doctor = self.get_object()
        services.doctor_verify(doctor=doctor)
        doctor = self.get_queryset().get(pk=doctor.pk)
        return Response(self.get_serializer(doctor).data)
