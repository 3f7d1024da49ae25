from django.urls import path

from reports.api.views import DashboardView, DoctorReportView, SummaryView, TimeseriesView

urlpatterns = [
    path("dashboard/", DashboardView.as_view(), name="dashboard"),
    path("reports/summary/", SummaryView.as_view(), name="report-summary"),
    path("reports/timeseries/", TimeseriesView.as_view(), name="report-timeseries"),
    path("reports/doctors/", DoctorReportView.as_view(), name="report-doctors"),
]
