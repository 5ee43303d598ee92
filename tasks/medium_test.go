package tasks_test

import (
	"testing"

	"github.com/mxinvite/mxinvite/tasks"
)

func TestParseMedium(t *testing.T) {
	tests := []struct {
		in      string
		want    tasks.Medium
		wantErr bool
	}{
		{in: "email", want: tasks.MediumEmail},
		{in: " EMAIL ", want: tasks.MediumEmail},
		{in: "msisdn", want: tasks.MediumMSISDN},
		{in: "MSISDN", want: tasks.MediumMSISDN},
		{in: "", wantErr: true},
		{in: "phone", wantErr: true},
		{in: "e-mail", wantErr: true},
	}
	for _, tt := range tests {
		got, err := tasks.ParseMedium(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseMedium(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err != nil {
			assertFieldError(t, err, "medium")
		}
	}
}
